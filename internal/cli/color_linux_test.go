package cli

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// openTerminal opens the two ends of a new pseudo-terminal; the follower
// end is a terminal as a user's stdout would be.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	leader, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = leader.Close() })
	if err := unix.IoctlSetPointerInt(int(leader.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(leader.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	follower, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = follower.Close() })
	return follower
}

func TestColourOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	term := openTerminal(t)
	tests := []struct {
		name string
		out  *os.File
		env  map[string]string
		want bool
	}{
		{"terminal", term, nil, true},
		{"terminal with NO_COLOR", term, map[string]string{"NO_COLOR": "1"}, false},
		{"terminal with TERM=dumb", term, map[string]string{"TERM": "dumb"}, false},
		{"/dev/null, a character device but no terminal", devNull, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &Factory{Out: tt.out, Getenv: func(k string) string { return tt.env[k] }}
			if got := f.useColor(); got != tt.want {
				t.Errorf("useColor() = %v, want %v", got, tt.want)
			}
		})
	}
}
