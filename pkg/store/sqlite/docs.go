package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getDoc loads one JSON document into out; errs.ErrNotFound when there is no row.
func getDoc(ctx context.Context, q queryer, out any, query string, args ...any) error {
	var doc []byte
	err := q.QueryRowContext(ctx, query, args...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite query: %w", err)
	}
	if err := json.Unmarshal(doc, out); err != nil {
		return fmt.Errorf("decode stored document: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "PRIMARY KEY"))
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return b, nil
}

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite %s: %w", what, err)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func decode(doc []byte, out any) error {
	if err := json.Unmarshal(doc, out); err != nil {
		return fmt.Errorf("decode stored document: %w", err)
	}
	return nil
}
