package main

// TLS key logs for every command that decodes: --keylog FILE, or the file
// SSLKEYLOGFILE names when no flag is given (said on stderr), and the
// secrets a pcapng file carries (read by analyze.Decode). A live capture
// follows the key log as its endpoints append to it, and holds records
// whose keys come a moment after their packets.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/wsviz/wsviz/analyze"
	"github.com/wsviz/wsviz/capture"
	"github.com/wsviz/wsviz/capture/save"
)

// keylogFlag is --keylog.
type keylogFlag struct {
	path string
	keys *analyze.KeyLog
}

// addKeylogFlag registers --keylog on fs. The file is read when the flag
// is parsed, so that a malformed line is a usage error naming it.
func addKeylogFlag(fs *flag.FlagSet) *keylogFlag {
	k := &keylogFlag{}
	fs.Func("keylog", "decrypt TLS (wss://) with the secrets in this key log `file` (NSS format, as SSLKEYLOGFILE makes; default: $SSLKEYLOGFILE)", func(path string) error {
		keys, err := analyze.ReadKeyLogFile(path)
		if err != nil {
			return err
		}
		k.path, k.keys = path, keys
		return nil
	})
	return k
}

// apply sets o.Keys from --keylog, or else from SSLKEYLOGFILE, which is
// said on w (a key log that cannot be read is said and ignored: the
// variable may be set for other programs).
func (k *keylogFlag) apply(o *analyze.Options, w io.Writer) {
	if k.keys != nil {
		o.Keys = k.keys
		followed.Store(k.keys, k.path)
		return
	}
	path := os.Getenv("SSLKEYLOGFILE")
	if path == "" {
		return
	}
	keys, err := analyze.ReadKeyLogFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A browser started with it has not written it yet: a live
		// capture follows it once it appears.
		fmt.Fprintf(w, "wsviz: TLS keys: SSLKEYLOGFILE=%s does not exist (yet)\n", path)
		keys = analyze.NewKeyLog()
	case err != nil:
		fmt.Fprintf(w, "wsviz: TLS keys: SSLKEYLOGFILE=%s ignored: %v\n", path, err)
		return
	default:
		fmt.Fprintf(w, "wsviz: TLS keys from SSLKEYLOGFILE=%s (%d secrets)\n", path, keys.Len())
	}
	o.Keys = keys
	followed.Store(keys, path)
}

// followed maps each KeyLog read from a file to its path, for
// followKeyLog.
var followed sync.Map

// keylogPoll is how often a live capture looks for new key log lines.
const keylogPoll = 100 * time.Millisecond

// keylogLive prepares a live capture's TLS keys: its key log follows its
// file (followKeyLog), and with -w the secrets the capture used are saved
// into the pcapng file when stop is called, after the file was closed, so
// that the saved capture decrypts itself anywhere.
func keylogLive(o *analyze.Options, stderr io.Writer, save string) (stop func()) {
	if o.Keys == nil {
		return func() {}
	}
	if save != "" {
		o.Keys.TrackUsed()
	}
	stopFollow := followKeyLog(o, stderr)
	return func() {
		stopFollow()
		if save == "" {
			return
		}
		var used bytes.Buffer
		n, _ := o.Keys.WriteUsed(&used)
		if n == 0 {
			return
		}
		if err := saveSecrets(save, used.Bytes()); err != nil {
			fmt.Fprintf(stderr, "wsviz: TLS keys not saved in %s: %v\n", save, err)
			return
		}
		fmt.Fprintf(stderr, "wsviz: %s also holds the %d TLS secrets of its sessions (a decryption secrets block)\n", save, n)
	}
}

// saveSecrets puts a key log into a pcapng file as a Decryption Secrets
// Block before its packets.
func saveSecrets(path string, keylog []byte) error {
	return save.InjectSecrets(path, save.SecretsTLSKeyLog, keylog)
}

// followKeyLog makes a live capture's key log follow its file: lines the
// endpoints append while the capture runs are added (visible to every
// packet from then on), and connections hold records whose keys are not
// there yet (analyze.Options.KeyWait). stop ends the following.
func followKeyLog(o *analyze.Options, stderr io.Writer) (stop func()) {
	if o.KeyWait == 0 {
		o.KeyWait = analyze.DefaultKeyWait
	}
	v, ok := followed.Load(o.Keys)
	if !ok {
		return func() {}
	}
	path := v.(string)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		// Start where ReadKeyLogFile stopped: at the end of the lines it
		// read (a last line without its newline is read again whole).
		var off int64
		if fi, err := os.Stat(path); err == nil {
			off = fi.Size()
			if b, err := os.ReadFile(path); err == nil {
				for off > 0 && b[off-1] != '\n' {
					off--
				}
			}
		}
		p := o.Keys.NewParser(path)
		tick := time.NewTicker(keylogPoll)
		defer tick.Stop()
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			if fi, err := f.Stat(); err == nil && fi.Size() < off {
				off = 0 // truncated and rewritten
				p = o.Keys.NewParser(path)
			}
			for {
				n, err := f.ReadAt(buf, off)
				if n > 0 {
					off += int64(n)
					if perr := p.Write(buf[:n], 0); perr != nil {
						fmt.Fprintf(stderr, "wsviz: TLS keys: %v; no more lines of it are read\n", perr)
						f.Close()
						return
					}
				}
				if err != nil {
					break
				}
			}
			f.Close()
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// useFileSecrets makes the secrets a pcapng file carries go into opts (the
// file is about to be wrapped in a filter, which hides them from
// analyze.Decode).
func useFileSecrets(f *capture.File, opts *analyze.Options) {
	analyze.UseSecrets(f, opts)
}
