package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"ticketflow/internal/auth"
	"ticketflow/internal/config"
	"ticketflow/internal/store/postgres"
)

// keysUsage explains `apiserver keys`.
const keysUsage = `usage:
  apiserver keys create --name NAME --role agent|customer|automation|admin [--subject REQUESTER]
  apiserver keys list
  apiserver keys revoke ID-OR-NAME

create prints the new key's secret once; only its hash is stored. A customer key needs the
requester it acts for (--subject). Revocation takes effect at once in every API process.`

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
		fs.StringVar(&n.Subject, "subject", "", "for a customer key: the requester it acts for")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		secret, hash := auth.NewSecret()
		k, err := db.CreateKey(ctx, n, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "created key %s (%s, role %s)\n%s\n", k.Name, k.ID, k.Role, secret)
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
