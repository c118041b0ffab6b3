// Package sqlspy records the text of every SQL statement a database/sql
// pool sends, for the stores' tests that prove no statement text carries
// caller data (checklist ST-05).
package sqlspy

import (
	"context"
	"database/sql/driver"
	"sync"
)

// Connector wraps a driver's connector and records statement texts.
type Connector struct {
	driver.Connector
	mu      sync.Mutex
	queries []string
}

// Wrap returns a recording Connector around c.
func Wrap(c driver.Connector) *Connector { return &Connector{Connector: c} }

// Connect opens a connection whose statements are recorded.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return spyConn{conn, c}, nil
}

// Queries returns the statement texts recorded so far.
func (c *Connector) Queries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.queries...)
}

func (c *Connector) record(q string) {
	c.mu.Lock()
	c.queries = append(c.queries, q)
	c.mu.Unlock()
}

// spyConn hides the driver's direct Exec and Query, so that database/sql
// prepares every statement through Prepare, where it is recorded.
type spyConn struct {
	driver.Conn
	spy *Connector
}

func (c spyConn) Prepare(q string) (driver.Stmt, error) {
	c.spy.record(q)
	return c.Conn.Prepare(q)
}

func (c spyConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.spy.record(q)
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, q)
	}
	return c.Conn.Prepare(q)
}

// BeginTx keeps the driver's own transaction options (database/sql would
// otherwise fall back to the deprecated Begin).
func (c spyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.Conn.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	//lint:ignore SA1019 the driver has nothing newer
	return c.Conn.Begin()
}

// DriverConnector is a driver.Connector for a driver and a DSN, for
// drivers that have only Open.
type DriverConnector struct {
	D   driver.Driver
	DSN string
}

// Connect opens a connection with the DSN.
func (d DriverConnector) Connect(context.Context) (driver.Conn, error) { return d.D.Open(d.DSN) }

// Driver returns the wrapped driver.
func (d DriverConnector) Driver() driver.Driver { return d.D }
