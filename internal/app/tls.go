package app

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// errNotLoaded is Validate's word for a Config with TLS files whose TLS
// configuration was never loaded from them (ParseConfig loads it).
var errNotLoaded = errors.New("not loaded: ParseConfig reads the files")

// validateTLS checks --tls-cert-file and --tls-key-file: both or neither,
// and, with both, a configuration loaded from them (loadTLS).
func (c *Config) validateTLS() error {
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return nil
	case c.TLSCertFile == "":
		return errors.New("--tls-cert-file (WEBHOOKD_TLS_CERT_FILE): required with --tls-key-file")
	case c.TLSKeyFile == "":
		return errors.New("--tls-key-file (WEBHOOKD_TLS_KEY_FILE): required with --tls-cert-file")
	case c.TLS == nil:
		return fmt.Errorf("--tls-cert-file, --tls-key-file: %w", errNotLoaded)
	}
	return nil
}

// loadTLS reads the certificate and key files into c.TLS; without them it
// leaves c.TLS nil (plaintext). The files are read once, at start: a
// renewed certificate takes a restart.
func (c *Config) loadTLS() error {
	if c.TLSCertFile == "" || c.TLSKeyFile == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
	}
	c.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return nil
}
