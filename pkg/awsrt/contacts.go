package awsrt

import (
	"context"

	"github.com/switchyard-dev/switchyard/pkg/contactreport"
)

// DrainContacts reports the contact_updated events still pending in the contact outbox (updates whose
// report failed, or whose function died between the write and the report), each at most once per revision
// thanks to its idempotency key. It takes batches until one comes back short or ctx ends, and returns how
// many it reported. Meant for the scheduled sweep function: it needs Query on gsi2, BatchGetItem,
// GetItem/UpdateItem/DeleteItem on the table, and what ReportEvent needs (TransactWriteItems, the Step
// Functions start).
func (rt *Runtime) DrainContacts(ctx context.Context) (int, error) {
	o := &contactreport.Outbox{Store: rt.store, Engine: rt.engine, Now: rt.now, Log: rt.log}
	total := 0
	for ctx.Err() == nil {
		n, err := o.Drain(ctx, contactreport.DefaultBatch)
		total += n
		if err != nil || n < contactreport.DefaultBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}
