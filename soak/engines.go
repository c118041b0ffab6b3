package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// engine is a database server this program starts, restarts and stops
// itself, on its own loopback port and data directory: the soak never
// touches the shared services other tests use.
type engine interface {
	Name() string
	Start(ctx context.Context) error
	// Stop shuts the server down and waits for its process to exit:
	// cleanly, or with crash as abruptly as the engine allows. Either way
	// acknowledged writes must survive (see each engine).
	Stop(crash bool) error
}

// proc is one run of a server process, stopped by its PID.
type proc struct {
	cmd  *exec.Cmd
	done chan error
}

func startProc(cmd *exec.Cmd, logPath string) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); lf.Close() }()
	return p, nil
}

// stop sends sig to the process and waits up to 60 s for it to exit,
// then kills it.
func (p *proc) stop(sig os.Signal) error {
	if p == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop in 60 s; killed", p.cmd.Path)
	}
}

// waitPort waits until something accepts connections on addr.
func waitPort(ctx context.Context, addr string, p *proc) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited during start-up: %v", p.cmd.Path, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// redisEngine is a redis-server with an append-only file fsynced on every
// write (appendfsync always) in its own directory: a write Redis has
// acknowledged survives a restart, which "sessions lost: 0" needs.
type redisEngine struct {
	bin, dir string
	port     int
	p        *proc
}

func (e *redisEngine) Name() string { return "redis" }
func (e *redisEngine) Addr() string { return "127.0.0.1:" + strconv.Itoa(e.port) }

func (e *redisEngine) Start(ctx context.Context) error {
	cmd := exec.Command(e.bin, "--port", strconv.Itoa(e.port), "--bind", "127.0.0.1",
		"--dir", e.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--protected-mode", "yes",
		// Record every event (fsync, fork, command) that blocks Redis for
		// 100 ms or more; the soak prints LATENCY LATEST at the end.
		"--latency-monitor-threshold", "100")
	p, err := startProc(cmd, filepath.Join(e.dir, "redis.log"))
	if err != nil {
		return err
	}
	e.p = p
	if err := waitPort(ctx, e.Addr(), p); err != nil {
		return err
	}
	// Redis accepts connections while it still replays the append-only
	// file, answering -LOADING; it is up when PING gets PONG.
	for {
		if redisPing(e.Addr()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// redisPing sends one PING and reports whether the reply is +PONG.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop sends SIGTERM (Redis flushes the append-only file and exits) or,
// for a crash, SIGKILL: what Redis acknowledged is already fsynced.
func (e *redisEngine) Stop(crash bool) error {
	sig := syscall.SIGTERM
	if crash {
		sig = syscall.SIGKILL
	}
	err := e.p.stop(sig)
	e.p = nil
	return err
}

// pgEngine is a PostgreSQL cluster created with initdb in its own
// directory (fsync and synchronous_commit on, the defaults: a committed
// write survives a restart), run as the postgres user when this program
// runs as root.
type pgEngine struct {
	binDir, dir string
	port        int
	p           *proc
	cred        *syscall.Credential
}

func (e *pgEngine) Name() string { return "postgres" }

// DSN is the connection string (trust authentication on loopback).
func (e *pgEngine) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", e.port)
}

func (e *pgEngine) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(e.binDir, name), args...)
	if e.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	}
	return cmd
}

// Init creates the cluster. PostgreSQL refuses to run as root, so as root
// the directory is given to the postgres user and the server runs as it.
func (e *pgEngine) Init() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		e.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(filepath.Dir(e.dir), uid, gid); err != nil {
			return err
		}
	}
	out, err := e.command("initdb", "-D", e.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

func (e *pgEngine) Start(ctx context.Context) error {
	cmd := e.command("postgres", "-D", e.dir, "-p", strconv.Itoa(e.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+e.dir,
		"-c", "max_connections=50", "-c", "shared_buffers=32MB")
	p, err := startProc(cmd, filepath.Join(filepath.Dir(e.dir), "postgres.log"))
	if err != nil {
		return err
	}
	e.p = p
	if err := waitPort(ctx, "127.0.0.1:"+strconv.Itoa(e.port), p); err != nil {
		return err
	}
	// The port opens before the server takes queries ("the database
	// system is starting up").
	for {
		c, err := pgx.Connect(ctx, e.DSN())
		if err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop sends SIGINT, PostgreSQL's "fast" shutdown (open transactions are
// rolled back), or for a crash SIGQUIT, "immediate" shutdown: no
// checkpoint, the next start replays the WAL. Committed transactions are
// in the fsynced WAL either way. (SIGKILL of the postmaster would leave
// its backends running and block the restart.)
func (e *pgEngine) Stop(crash bool) error {
	sig := syscall.SIGINT
	if crash {
		sig = syscall.SIGQUIT
	}
	err := e.p.stop(sig)
	e.p = nil
	return err
}

// reportLatency writes Redis's LATENCY LATEST (events that blocked it for
// 100 ms or more since its last start: event, time, last and worst ms).
func (e *redisEngine) reportLatency(ctx context.Context, w io.Writer) {
	c := redis.NewClient(&redis.Options{Addr: e.Addr()})
	defer c.Close()
	v, err := c.Do(ctx, "LATENCY", "LATEST").Slice()
	if err != nil {
		fmt.Fprintln(w, "redis: LATENCY LATEST:", err)
		return
	}
	fmt.Fprintf(w, "redis: LATENCY LATEST since the last restart (event, unix time, last ms, max ms): %v\n", v)
}
