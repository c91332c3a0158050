package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// cpuTime is the CPU time, user and system, process pid has used so far
// (/proc/PID/stat). Its resolution is 10 ms: runs measure seconds of it.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from the last ')'. After it come state (field 3) … utime (14), stime (15).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// memory is a process's resident set: now (VmRSS) and its peak (VmHWM)
// since it started or since resetPeakRSS.
type memory struct{ rss, peak int64 }

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for prefix, dst := range map[string]*int64{"VmRSS:": &m.rss, "VmHWM:": &m.peak} {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err != nil {
					return memory{}, err
				}
				*dst = kb << 10
			}
		}
	}
	if m.rss == 0 || m.peak == 0 {
		return memory{}, errors.New("no VmRSS or VmHWM in /proc status")
	}
	return m, sc.Err()
}

// resetPeakRSS starts VmHWM afresh from the current RSS, so that the next
// peak is that of one phase alone (Linux: 5 to clear_refs).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// scheduleDepth reads webhookd_schedule_depth, the deliveries in the
// schedule (retries waiting among them), from webhookd's /metrics.
func scheduleDepth(ctx context.Context, httpAddr string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "webhookd_schedule_depth "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no webhookd_schedule_depth in /metrics")
}
