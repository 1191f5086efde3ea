// Command wsviz shows what really happens on a WebSocket connection, packet
// by packet: it decodes captures (or live traffic) into annotated events and
// shows them as JSON Lines or as a timeline in the browser.
//
// Usage:
//
//	wsviz events -r FILE       decode a capture into JSON Lines on stdout
//	wsviz events -r FILE -T text -Y 'type == "ws.message"'
//	                           one aligned line per message
//	wsviz stats -r FILE        per-connection statistics
//	wsviz ui -r FILE           open the timeline in the browser
//	wsviz FILE                 shortcut for wsviz ui -r FILE
//
// Run "wsviz help" for every command and "wsviz CMD -h" for its flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
)

// command is one subcommand. Each lives in its own file and registers
// itself in init, so that files for different commands never touch each
// other.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary: summary, run: run}
}

// errUsage marks an error whose message has already been printed with the
// usage text.
var errUsage = errors.New("usage")

// exitError ends a command with a status of its own (wsviz diff: 1 for
// "they differ", 2 for an error); Err, when not nil, is printed first.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

func main() {
	if os.Getenv("GOGC") == "" {
		// The decoder's live heap is small and steady (batches in flight,
		// compression histories); with Go's default of 100 the heap grows
		// to twice it between collections, so a long capture's peak RSS
		// would depend on when the last collection happened. 50 keeps peak
		// RSS at 1.5× the live heap for a few more collections (well under
		// 1% of the CPU time); GOGC in the environment still wins.
		debug.SetGCPercent(gcPercent)
	}
	// A reader that goes away (wsviz events | head -1) must end the
	// program quietly with status 0, as tcpdump does. Without a handler,
	// Go kills the program with SIGPIPE on a write to a closed standard
	// output; with one, the write fails with EPIPE, which run treats as
	// the end.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent is the garbage collector's target (see runtime/debug.SetGCPercent)
// unless GOGC is set.
const gcPercent = 50

// Exit statuses.
const (
	exitOK    = 0 // everything was read and written (or the reader of stdout went away)
	exitInput = 1 // the input could not be read to the end, or output failed; what came before was written
	exitUsage = 2 // bad flags or arguments: nothing was done
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name, rest := args[0], args[1:]
	switch name {
	case "--version", "-version", "-V":
		name = "version"
	case "-D", "--list-interfaces":
		name = "interfaces"
	}
	cmd, ok := commands[name]
	if !ok && !strings.HasPrefix(name, "-") {
		// "wsviz FILE [flags] [FILTER]" is a shortcut for "wsviz ui -r FILE ...".
		if ui, found := commands["ui"]; found {
			if _, err := os.Stat(name); err == nil {
				cmd, rest, ok = ui, append([]string{"-r", name}, rest...), true
				name = "ui"
			} else if looksLikePath(name) {
				fmt.Fprintf(stderr, "wsviz: %s: no such file (and no command of that name; wsviz help lists them)\n", name)
				return exitInput
			}
		}
	}
	if !ok {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "wsviz: %s: flags come after the command, as in wsviz events -r FILE\n", name)
		} else {
			fmt.Fprintf(stderr, "wsviz: unknown command %q\n", name)
		}
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(rest, stdout, stderr)
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, syscall.EPIPE):
		// The reader of the output went away: the end, not a failure.
		return exitOK
	case errors.As(err, &ee):
		if ee.Err != nil && !errors.Is(ee.Err, errUsage) {
			fmt.Fprintf(stderr, "wsviz %s: %v\n", name, ee.Err)
		}
		return ee.Code
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errAfterOutput):
		return exitInput
	}
	fmt.Fprintf(stderr, "wsviz %s: %v\n", name, err)
	return exitInput
}

// looksLikePath reports whether a first argument that is no command was
// meant as a file: it has a directory or an extension.
func looksLikePath(s string) bool {
	return strings.ContainsAny(s, "/.\\")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wsviz shows what really happens on a WebSocket connection, packet by packet.")
	fmt.Fprintln(w, "\nUsage:\n\twsviz COMMAND [flags] [FILTER]\n\twsviz FILE [flags] [FILTER]    (wsviz ui -r FILE)\n\twsviz -D                       (wsviz interfaces)\n\twsviz --version                (wsviz version)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "\t%-*s %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun wsviz COMMAND -h for a command's flags. Exit status: 0 ok, 1 the input could\nnot be read to the end (what came before was written), 2 usage error.")
}
