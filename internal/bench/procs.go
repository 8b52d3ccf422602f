package bench

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on every Linux that
// ticketflow runs on).
const clockTick = 10 * time.Millisecond

// procs finds the processes of the stack under load on this machine, so that the bench can say
// where the CPU of each phase went: this process (the load, the API and the worker), the Temporal
// server, PostgreSQL and Redis. Two cores are shared by all of them, so a phase's throughput is
// bounded by the sum, and a ratio that misses its target shows here which process is the cost.
// It reads /proc, so it finds nothing on another machine or OS, and the table says so.
type procs struct {
	temporalPort string
	redisPorts   map[string]bool
	postmaster   int // 0 when unknown
}

// cpuTimes returns the CPU time used so far by each group of processes. PostgreSQL counts the
// postmaster, its live children and the children that have exited (cutime).
func (p procs) cpuTimes() map[string]time.Duration {
	out := map[string]time.Duration{}
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		st, ok := readStat(pid)
		if !ok {
			continue
		}
		var group string
		switch {
		case pid == self:
			group = "bench"
		case p.postmaster != 0 && pid == p.postmaster:
			group = "postgres"
			st.cpu += st.children
		case p.postmaster != 0 && st.ppid == p.postmaster:
			group = "postgres"
		case st.comm == "redis-server" || st.comm == "temporal":
			cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
			group = p.classify(st.comm, strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00"))
		}
		if group != "" {
			out[group] += st.cpu
		}
	}
	if busy, ok := machineBusy(); ok {
		out["machine"] = busy
	}
	return out
}

// machineBusy is the CPU time that the whole machine has spent busy since it booted, from the
// first line of /proc/stat: what the stack's processes did not spend of it, others did, and that
// says how much the figures were disturbed.
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	// user nice system idle iowait irq softirq steal: all but idle and iowait.
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick, true
}

// classify tells the Temporal server and the Redis nodes of this stack from those of the dev and
// test stacks, which run the same binaries: by the ports on their command lines.
func (p procs) classify(comm string, args []string) string {
	switch comm {
	case "temporal":
		for i, a := range args {
			if a == "--port" && i+1 < len(args) && args[i+1] == p.temporalPort {
				return "temporal"
			}
		}
	case "redis-server":
		// redis-server shows its address as its title: "redis-server 127.0.0.1:7301 [cluster]".
		for _, a := range args {
			for f := range strings.FieldsSeq(a) {
				if _, port, err := net.SplitHostPort(f); err == nil && p.redisPorts[port] {
					return "redis"
				}
			}
		}
	}
	return ""
}

type procStat struct {
	comm     string
	ppid     int
	cpu      time.Duration // utime + stime
	children time.Duration // cutime + cstime
}

// readStat parses /proc/<pid>/stat (see proc(5)).
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// comm is in parentheses and may hold spaces; the fields after the last ')' are plain.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	num := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
	// f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
	return procStat{
		comm:     string(b[open+1 : end]),
		ppid:     int(num(1)),
		cpu:      time.Duration(num(11)+num(12)) * clockTick,
		children: time.Duration(num(13)+num(14)) * clockTick,
	}, true
}
