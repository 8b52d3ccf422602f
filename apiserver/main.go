// Command apiserver serves ticketflow's HTTP API. `apiserver migrate` applies the database
// migrations and exits; `apiserver keys …` manages API keys; `apiserver --version` prints the
// build and exits.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/ticketflow/ticketflow/internal/app"
	"github.com/ticketflow/ticketflow/internal/config"
	"github.com/ticketflow/ticketflow/internal/store/postgres"
)

const usage = "usage: apiserver [--version] [migrate | keys create|list|revoke …]"

func main() {
	app.Main("apiserver", usage, func(ctx context.Context, cfg config.Config, args []string) error {
		switch {
		case len(args) == 0:
			return app.RunAPI(ctx, cfg, app.NewLogger(cfg))
		case len(args) == 1 && args[0] == "migrate":
			if err := postgres.Migrate(cfg.DatabaseDSN); err != nil {
				return err
			}
			fmt.Println("migrations applied")
			return nil
		case args[0] == "keys":
			return app.RunKeys(ctx, cfg, args[1:], os.Stdout)
		default:
			return app.ErrUsage
		}
	})
}
