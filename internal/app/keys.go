package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ticketflow/ticketflow/internal/auth"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
)

// keysUsage explains `apiserver keys`.
const keysUsage = `usage:
  apiserver keys create --name NAME --role agent|customer|automation|admin [--subject WHO] [--out FILE]
  apiserver keys list
  apiserver keys revoke ID-OR-NAME

create prints the new key's secret once, or writes it to FILE, readable by its owner only; only
its hash is stored. A customer key needs the requester it acts for (--subject). An agent key may
name the person who holds it (--subject): the actor of its changes and whom assignee=me means,
which are the key's name without one. Revocation takes effect at once in every API process.`

// RunKeys runs `apiserver keys …` against the database: the way to make the first key of a fresh
// install, and to manage keys from a shell.
func RunKeys(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", keysUsage)
	}
	if err := postgres.Migrate(cfg.DatabaseDSN); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db, err := postgres.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return err
	}
	defer db.Close()

	switch cmd, rest := args[0], args[1:]; cmd {
	case "create":
		fs := flag.NewFlagSet("keys create", flag.ContinueOnError)
		fs.SetOutput(out)
		var n auth.NewKey
		fs.StringVar(&n.Name, "name", "", "a name that says who holds the key; recorded as the actor of their changes")
		fs.StringVar(&n.Role, "role", "", "agent, customer, automation or admin")
		fs.StringVar(&n.Subject, "subject", "", "for a customer key: the requester it acts for; for an agent key: who holds it")
		outFile := fs.String("out", "", "write the secret to this file, readable by its owner only, instead of printing it")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		secret, hash := auth.NewSecret()
		if *outFile == "" {
			k, err := db.CreateKey(ctx, n, hash)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "created key %s (%s, role %s)\n%s\n", k.Name, k.ID, k.Role, secret)
			return nil
		}
		// The file is made before the key, so that a path that cannot be written fails before
		// a key exists whose secret nobody has.
		f, err := newSecretFile(*outFile)
		if err != nil {
			return err
		}
		k, err := db.CreateKey(ctx, n, hash)
		if err != nil {
			f.discard()
			return err
		}
		if err := f.commit(secret); err != nil {
			// Nobody has the secret: the key must not stay valid.
			if _, rerr := db.RevokeKey(ctx, k.ID); rerr != nil {
				return fmt.Errorf("write %s: %w; key %s was created and could not be revoked: %w", *outFile, err, k.Name, rerr)
			}
			return fmt.Errorf("write %s: %w (key %s was revoked)", *outFile, err, k.Name)
		}
		fmt.Fprintf(out, "created key %s (%s, role %s); its secret is in %s\n", k.Name, k.ID, k.Role, *outFile)
		return nil
	case "list":
		keys, err := db.ListKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSUBJECT\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, k.Subject, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if len(rest) != 1 {
			return fmt.Errorf("%s", keysUsage)
		}
		k, err := db.RevokeKey(ctx, rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked key %s (%s)\n", k.Name, k.ID)
		return nil
	default:
		return fmt.Errorf("%s", keysUsage)
	}
}

// secretFile writes a secret to a path so that nobody but its owner can read it at any moment: it
// goes to a new file of mode 0600 beside path, which then replaces path. Replacing rather than
// writing into path also means that a file left with wider permissions, or a symbolic link
// someone put there, is replaced instead of written through.
type secretFile struct {
	path string
	tmp  *os.File
}

func newSecretFile(path string) (*secretFile, error) {
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	// CreateTemp makes the file with mode 0600, in the same directory so that the rename below
	// stays on one file system.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	return &secretFile{path: path, tmp: tmp}, nil
}

func (f *secretFile) commit(secret string) error {
	_, err := f.tmp.WriteString(secret + "\n")
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
	}
	return err
}

func (f *secretFile) discard() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}
