package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// DefaultServer is webhookd's default gRPC listen address.
const DefaultServer = "127.0.0.1:9090"

// Factory gives commands their streams, their settings and, on demand, an
// API client. Nothing dials until a command calls Client, so a command
// line that is wrong fails at once, and tests can give the factory any
// streams and environment.
type Factory struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// Now is the clock of relative times (--since 24h) and of verify's
	// timestamp tolerance.
	Now func() time.Time

	flags  globalFlags
	root   *cobra.Command
	client *Client
	conn   *grpc.ClientConn
	cancel context.CancelFunc // of the --timeout context
}

// globalFlags are the root's persistent flags, shared by every command.
type globalFlags struct {
	server    string
	apiKey    string
	profile   string
	caFile    string
	plaintext bool
	format    string
	timeout   time.Duration
}

// Client is the API as commands see it.
type Client struct {
	Webhooks webhooksv1.WebhookServiceClient
	Admin    webhooksv1.AdminServiceClient
}

// settings are the resolved connection settings of one run.
type settings struct {
	Server    string
	APIKey    string
	CAFile    string
	Plaintext bool
	Profile   string
}

// changed reports whether a persistent flag was given on the command line.
func (f *Factory) changed(name string) bool {
	fl := f.root.PersistentFlags().Lookup(name)
	return fl != nil && fl.Changed
}

// settings resolves the connection settings: a flag wins over its
// WEBHOOKD_* variable, which wins over the profile, which wins over the
// default.
func (f *Factory) settings() (settings, error) { return f.resolve(false) }

// resolve is settings; with newProfile, a profile named explicitly need not
// exist yet (login creates it).
func (f *Factory) resolve(newProfile bool) (settings, error) {
	var s settings
	s.Profile = f.flags.profile
	explicit := f.changed("profile")
	if !explicit {
		if v := f.Getenv("WEBHOOKD_PROFILE"); v != "" {
			s.Profile, explicit = v, true
		}
	}
	path, err := configPath(f.Getenv)
	var p Profile
	if err == nil {
		cfg, err := loadConfig(path)
		if err != nil {
			return s, err
		}
		var ok bool
		p, ok = cfg.Profiles[s.Profile]
		if !ok && explicit && !newProfile {
			known := "it has none"
			if names := cfg.profileNames(); len(names) > 0 {
				known = "it has " + strings.Join(names, ", ")
			}
			return s, usagef("profile %q is not in %s (%s): create it with 'webhookctl login --profile %s'", s.Profile, path, known, s.Profile)
		}
	} else if explicit && !newProfile {
		return s, usagef("--profile: %v", err)
	}
	pick := func(flagName, env, fromProfile, def string) string {
		switch {
		case f.changed(flagName):
			return f.root.PersistentFlags().Lookup(flagName).Value.String()
		case env != "" && f.Getenv(env) != "":
			return f.Getenv(env)
		case fromProfile != "":
			return fromProfile
		}
		return def
	}
	s.Server = pick("server", "WEBHOOKD_SERVER", p.Server, DefaultServer)
	s.APIKey = pick("api-key", "WEBHOOKD_API_KEY", p.APIKey, "")
	s.CAFile = pick("ca-file", "WEBHOOKD_CA_FILE", p.CAFile, "")
	s.Plaintext = p.Plaintext
	if f.changed("plaintext") {
		s.Plaintext = f.flags.plaintext
	}
	return s, nil
}

// Client dials webhookd with the resolved settings; later calls reuse the
// connection.
func (f *Factory) Client() (*Client, error) {
	if f.client != nil {
		return f.client, nil
	}
	s, err := f.settings()
	if err != nil {
		return nil, err
	}
	conn, err := dial(s, f.root.Version)
	if err != nil {
		return nil, err
	}
	f.conn = conn
	f.client = &Client{Webhooks: webhooksv1.NewWebhookServiceClient(conn), Admin: webhooksv1.NewAdminServiceClient(conn)}
	return f.client, nil
}

// close releases the connection, if one was made.
func (f *Factory) close() {
	if f.cancel != nil {
		f.cancel()
	}
	if f.conn != nil {
		_ = f.conn.Close()
	}
}

// dial connects to s.Server. The transport is TLS (system roots, or
// --ca-file) unless the server is on loopback or --plaintext is given:
// an API key must not cross a network in the clear by accident.
func dial(s settings, version string) (*grpc.ClientConn, error) {
	host, plaintext, err := transport(s)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	if plaintext {
		creds = insecure.NewCredentials()
	} else {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return nil, usagef("--ca-file: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, usagef("--ca-file %s: no PEM certificate in it", s.CAFile)
			}
			cfg.RootCAs = pool
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("webhookctl/" + version),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}
	if s.APIKey != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: s.APIKey, secure: !plaintext}))
	}
	conn, err := grpc.NewClient("passthrough:///"+s.Server, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.Server, err)
	}
	return conn, nil
}

// transport says whether dial connects to s.Server in plaintext: with
// --plaintext, or to a loopback server unless --ca-file asks for TLS.
func transport(s settings) (host string, plaintext bool, err error) {
	host, port, err := net.SplitHostPort(s.Server)
	if err != nil || host == "" || port == "" {
		return "", false, usagef("--server %q: want host:port, e.g. %s", s.Server, DefaultServer)
	}
	return host, s.Plaintext || (s.CAFile == "" && isLoopback(host)), nil
}

// isLoopback reports whether host names this machine: localhost or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// bearer sends the API key as `authorization: Bearer <token>` on every call.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false only on the plaintext connections dial
// allows (loopback, or --plaintext).
func (b bearer) RequireTransportSecurity() bool { return b.secure }
