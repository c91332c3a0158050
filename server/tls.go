package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// pinnedTLS is the client side of the gateway's connection to this
// server's own gRPC listener when it serves TLS. The certificate is the
// operator's, made for the names clients use, which need not include the
// loopback address the gateway dials; so instead of checking names the
// connection accepts exactly the server's own leaf certificates.
func pinnedTLS(own []tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is done by VerifyPeerCertificate below, against
		// the pinned certificates, not against roots and names.
		InsecureSkipVerify: true, //nolint:gosec // pinned to the server's own certificate
		VerifyPeerCertificate: func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 {
				return errors.New("gateway: the gRPC listener sent no certificate")
			}
			for _, c := range own {
				if len(c.Certificate) > 0 && bytes.Equal(c.Certificate[0], rawCerts[0]) {
					return nil
				}
			}
			return errors.New("gateway: the gRPC listener's certificate is not this server's")
		},
	}
}
