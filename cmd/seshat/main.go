package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0 // success, help
	exitFail  = 1 // the value or payload is bad
	exitUsage = 2 // bad invocation: unknown command or flag, missing keys
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// cli is what a command may use: the process's streams and environment,
// passed in so tests drive commands in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
}

// command is one subcommand. Commands with subcommands of their own (the
// planned "seshat sessions list|revoke") dispatch to them from run with
// [dispatch], the way run dispatches the top level.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // the full help text, starting with the synopsis
	run     func(c *cli, cmd *command, args []string) int
}

// commands lists the top-level commands in the order help shows them.
// "help" is handled by run itself.
var commands = []*command{signCmd, verifyCmd, decodeCmd, sessionsCmd}

// run executes the command line args (without the program name) and returns
// the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	return dispatch(c, "seshat", commands, args)
}

// dispatch runs the command named by args[0] among cmds; prog is the command
// path used in messages ("seshat", later "seshat sessions").
func dispatch(c *cli, prog string, cmds []*command, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(c.stderr, "%s: no command given\n\n", prog)
		writeCommandList(c.stderr, prog, cmds)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			if cmd := lookup(cmds, rest[0]); cmd != nil {
				fmt.Fprint(c.stdout, cmd.usage)
				return exitOK
			}
			fmt.Fprintf(c.stderr, "%s help: unknown command %q\n\n", prog, rest[0])
			writeCommandList(c.stderr, prog, cmds)
			return exitUsage
		}
		writeCommandList(c.stdout, prog, cmds)
		return exitOK
	}
	cmd := lookup(cmds, name)
	if cmd == nil {
		fmt.Fprintf(c.stderr, "%s: unknown command %q\n\n", prog, name)
		writeCommandList(c.stderr, prog, cmds)
		return exitUsage
	}
	return cmd.run(c, cmd, rest)
}

func lookup(cmds []*command, name string) *command {
	for _, cmd := range cmds {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func writeCommandList(w io.Writer, prog string, cmds []*command) {
	fmt.Fprintf(w, "usage: %s COMMAND [arguments]\n\n", prog)
	fmt.Fprintf(w, "%s signs, verifies and decodes Flask session cookies and manages stored sessions.\n\ncommands:\n", prog)
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "help", "show help for a command")
	fmt.Fprintf(w, "\nRun \"%s help COMMAND\" for a command's flags.\n", prog)
}

// newFlagSet returns a flag set that reports nothing itself: parse prints
// errors and help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, allowing flags after positional arguments (a
// lone "--" ends the flags). It returns the positional arguments, or an exit
// status with ok false when the command must stop: help was asked for
// (status 0, help on stdout) or the flags are wrong (status 2, message and
// help on stderr).
func parse(c *cli, cmd *command, fs *flag.FlagSet, args []string) (pos []string, status int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(c.stdout, cmd.usage)
				return nil, exitOK, false
			}
			return nil, usageError(c, cmd, "%v", err), false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a bad invocation of cmd and returns exitUsage.
func usageError(c *cli, cmd *command, format string, a ...any) int {
	fmt.Fprintf(c.stderr, "seshat %s: %s\n\n", cmd.name, fmt.Sprintf(format, a...))
	fmt.Fprint(c.stderr, cmd.usage)
	return exitUsage
}

// fail reports that the input was bad (one line) and returns exitFail.
func fail(c *cli, cmd *command, reason string) int {
	fmt.Fprintf(c.stderr, "seshat %s: %s\n", cmd.name, reason)
	return exitFail
}

// readValue returns the VALUE argument; "-" reads it from stdin (so a live
// cookie need not sit in the process list).
func readValue(c *cli, arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, maxInput+1))
	if err != nil {
		return "", fmt.Errorf("read value from stdin: %w", err)
	}
	if len(b) > maxInput {
		return "", fmt.Errorf("value on stdin exceeds %d bytes", maxInput)
	}
	return strings.TrimSpace(string(b)), nil
}

// maxInput bounds what seshat reads from stdin or a key file.
const maxInput = 1 << 20
