package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// What `accountd accounts` prints: aligned tables for people, JSON for
// scripts (--json).

// table writes rows as aligned columns.
func table(out io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// accountJSON is an account in the commands' JSON.
type accountJSON struct {
	UUID      string    `json:"uuid"`
	AccountID string    `json:"account_id"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
}

func toAccountJSON(a account.Account) accountJSON {
	return accountJSON{UUID: a.UUID, AccountID: a.AccountID, CreatedAt: a.CreatedAt.UTC(), Disabled: a.Disabled}
}

func printAccounts(out io.Writer, asJSON bool, list []account.Account) error {
	if asJSON {
		js := make([]accountJSON, len(list))
		for i, a := range list {
			js[i] = toAccountJSON(a)
		}
		return printJSON(out, js)
	}
	rows := make([][]string, len(list))
	for i, a := range list {
		rows[i] = []string{a.UUID, a.AccountID, stamp(a.CreatedAt), fmt.Sprint(a.Disabled)}
	}
	return table(out, "UUID\tACCOUNT_ID\tCREATED_AT\tDISABLED", rows)
}

// sessionJSON is a live session in `show --json`.
type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IPAddress  string    `json:"ip_address"`
	UserAgent  string    `json:"user_agent"`
}

func printAccountInfo(out io.Writer, asJSON bool, info account.AccountInfo) error {
	if asJSON {
		sessions := make([]sessionJSON, len(info.Sessions))
		for i, s := range info.Sessions {
			sessions[i] = sessionJSON{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(),
				ExpiresAt: s.ExpiresAt.UTC(), IPAddress: s.IPAddress, UserAgent: s.UserAgent}
		}
		return printJSON(out, struct {
			accountJSON
			Sessions []sessionJSON `json:"sessions"`
		}{toAccountJSON(info.Account), sessions})
	}
	a := info.Account
	fmt.Fprintf(out, "uuid:        %s\naccount_id:  %s\ncreated_at:  %s\ndisabled:    %t\nsessions:    %d\n\n",
		a.UUID, a.AccountID, stamp(a.CreatedAt), a.Disabled, len(info.Sessions))
	rows := make([][]string, len(info.Sessions))
	for i, s := range info.Sessions {
		rows[i] = []string{s.ID, stamp(s.CreatedAt), stamp(s.LastUsedAt), stamp(s.ExpiresAt), s.IPAddress, s.UserAgent}
	}
	return table(out, "SESSION\tCREATED_AT\tLAST_USED_AT\tEXPIRES_AT\tIP_ADDRESS\tUSER_AGENT", rows)
}

// eventJSON is a security event in `events --json`.
type eventJSON struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	IPAddress string    `json:"ip_address"`
	UserAgent string    `json:"user_agent"`
	SessionID string    `json:"session_id"`
	RequestID string    `json:"request_id"`
}

func printEvents(out io.Writer, asJSON bool, list []account.Event) error {
	if asJSON {
		js := make([]eventJSON, len(list))
		for i, e := range list {
			js[i] = eventJSON{ID: e.ID, Type: string(e.Type), CreatedAt: e.CreatedAt.UTC(), IPAddress: e.IPAddress,
				UserAgent: e.UserAgent, SessionID: e.SessionID, RequestID: e.RequestID}
		}
		return printJSON(out, js)
	}
	rows := make([][]string, len(list))
	for i, e := range list {
		rows[i] = []string{fmt.Sprint(e.ID), string(e.Type), stamp(e.CreatedAt), e.IPAddress, e.SessionID, e.UserAgent}
	}
	return table(out, "ID\tTYPE\tCREATED_AT\tIP_ADDRESS\tSESSION\tUSER_AGENT", rows)
}

// resultJSON is what a changing command did, in --json.
type resultJSON struct {
	accountJSON
	Done            string `json:"done"`
	SessionsRevoked int    `json:"sessions_revoked"`
}

func printResult(out io.Writer, asJSON bool, sub string, res account.OperatorResult) error {
	done := map[string]string{"disable": "disabled", "enable": "enabled", "revoke-sessions": "sessions revoked",
		"set-password": "password set", "delete": "deleted"}[sub]
	if asJSON {
		return printJSON(out, resultJSON{toAccountJSON(res.Account), done, res.SessionsRevoked})
	}
	_, err := fmt.Fprintf(out, "%s: %s (%s); %d sessions revoked\n", done, res.Account.AccountID, res.Account.UUID,
		res.SessionsRevoked)
	return err
}
