package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/storage"
)

const adminUsage = `usage:
  kefu admin create --data DIR --site ID --email E [--name N]
        create the site if missing and an admin agent; prints a one-time password
  kefu admin passwd --data DIR --site ID --email E
        give an agent a new one-time password (ends its sessions)
  kefu admin list   --data DIR --site ID [--cursor C] [--limit N]
        list a site's agents

The server holds the data directory's lock: run these on a stopped
server's data directory (--data, or data_dir of --config).`

// adminCmd manages sites and agents in the data directory of a stopped
// server. Passwords are generated, printed once, and never stored in clear.
func adminCmd(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("kefu admin "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", "", "YAML config file (for data_dir)")
	data := fs.String("data", "", "data directory (overrides data_dir)")
	site := fs.String("site", "", "site id (required)")
	email := fs.String("email", "", "agent email")
	name := fs.String("name", "", "agent display name (create)")
	cursor := fs.String("cursor", "", "list: start after this agent id")
	limit := fs.Int("limit", accounts.DefaultListLimit, "list: page size")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("admin %s: %w\n%s", sub, err, adminUsage)
	}
	switch sub {
	case "create", "passwd", "list":
	default:
		return fmt.Errorf("admin: unknown command %q\n%s", sub, adminUsage)
	}
	if *site == "" || (sub != "list" && *email == "") {
		return fmt.Errorf("admin %s: --site and --email are required\n%s", sub, adminUsage)
	}
	cfg, err := loadConfig(*cfgPath, *data)
	if err != nil {
		return err
	}
	st, err := openAdminStore(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	acc, err := accounts.New(accounts.Options{Store: st})
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		return adminCreate(acc, *site, *email, *name, stdout)
	case "passwd":
		ag, err := acc.AgentByEmail(*site, *email)
		if err != nil {
			return fmt.Errorf("admin passwd: agent %q of site %q: %w", *email, *site, err)
		}
		pw, err := acc.SetPassword(*site, ag.ID, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new password for %s (%s): %s\n(shown once; store it now)\n", ag.Email, ag.ID, pw)
		return nil
	default:
		list, next, err := acc.ListAgents(*site, *cursor, *limit)
		if err != nil {
			return err
		}
		for _, ag := range list {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%q\tcapacity=%d\tweight=%d\tgroups=%s\n",
				ag.ID, ag.Role, ag.Email, ag.Name, ag.Capacity, ag.Weight, strings.Join(ag.Groups, ","))
		}
		if next != "" {
			fmt.Fprintf(stdout, "more: --cursor %s\n", next)
		}
		return nil
	}
}

func adminCreate(acc *accounts.Accounts, site, email, name string, stdout io.Writer) error {
	if _, err := acc.GetSite(site); errors.Is(err, accounts.ErrNotFound) {
		if _, err := acc.CreateSite(site, nil, accounts.Settings{}); err != nil {
			return fmt.Errorf("admin create: site %q: %w", site, err)
		}
		fmt.Fprintf(stdout, "created site %s\n", site)
	} else if err != nil {
		return err
	}
	ag, pw, err := acc.CreateAgent(site, accounts.AgentSpec{Email: email, Name: name, Role: accounts.RoleAdmin})
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Fprintf(stdout, "created admin %s (%s) in site %s\npassword: %s\n(shown once; store it now)\n",
		ag.Email, ag.ID, site, pw)
	return nil
}

// openAdminStore opens DIR/pebble, turning the lock error of a directory
// held by a running server into a clear message.
func openAdminStore(dataDir string) (*storage.Store, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	st, err := storage.Open(storage.Options{Dir: filepath.Join(dataDir, "pebble")})
	if err != nil && (errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
		strings.Contains(err.Error(), "lock held")) {
		return nil, fmt.Errorf("admin: the data directory %s is in use (is the kefu server running?); "+
			"stop the server and retry: %w", dataDir, err)
	}
	return st, err
}
