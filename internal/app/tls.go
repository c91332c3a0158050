package app

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// validateTLS checks --tls-cert-file and --tls-key-file: both or neither,
// and a pair that loads.
func (c *Config) validateTLS() error {
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return nil
	case c.TLSCertFile == "":
		return errors.New("--tls-cert-file (WEBHOOKD_TLS_CERT_FILE): required with --tls-key-file")
	case c.TLSKeyFile == "":
		return errors.New("--tls-key-file (WEBHOOKD_TLS_KEY_FILE): required with --tls-cert-file")
	}
	_, err := c.tlsConfig()
	return err
}

// tlsConfig is the listeners' TLS configuration, nil for plaintext. The
// files are read once, at start: a renewed certificate takes a restart.
func (c *Config) tlsConfig() (*tls.Config, error) {
	if c.TLSCertFile == "" || c.TLSKeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}
