package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableInput is the table Switchyard needs: string keys pk/sk, on-demand billing (traffic is bursty and
// unknown in advance; nothing to size), and five GSIs (keys.go says what each is for). template.yaml must
// declare the same; CheckTable verifies a deployed table against it.
func TableInput(table string) *dynamodb.CreateTableInput {
	var defs []types.AttributeDefinition
	for _, name := range []string{AttrPK, AttrSK, AttrGSI1PK, AttrGSI1SK, AttrGSI2PK, AttrGSI2SK, AttrGSI3PK,
		AttrGSI3SK, AttrGSI4PK, AttrGSI4SK, AttrGSI5PK, AttrGSI5SK} {
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS})
	}
	gsi := func(name, pk, sk string, p types.ProjectionType) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: keySchema(pk, sk),
			Projection: &types.Projection{ProjectionType: p}}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: defs,
		KeySchema:            keySchema(AttrPK, AttrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			// ALL: matching an event needs the whole automation, and a KEYS_ONLY index would cost a
			// BatchGetItem round trip on every reported event.
			gsi(IndexByTrigger, AttrGSI1PK, AttrGSI1SK, types.ProjectionTypeAll),
			gsi(IndexActivationsBySite, AttrGSI2PK, AttrGSI2SK, types.ProjectionTypeKeysOnly),
			gsi(IndexActivationsByAutomation, AttrGSI3PK, AttrGSI3SK, types.ProjectionTypeKeysOnly),
			gsi(IndexPendingByEntity, AttrGSI4PK, AttrGSI4SK, types.ProjectionTypeKeysOnly),
			gsi(IndexPendingByAutomation, AttrGSI5PK, AttrGSI5SK, types.ProjectionTypeKeysOnly),
		},
	}
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
	}
}

// CreateTable creates the table if it does not exist, waits until it is ACTIVE, enables TTL on expiresAt,
// and checks that an existing table has the expected keys and index.
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.db.CreateTable(ctx, TableInput(s.table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamodb create table %s: %w", s.table, err)
	}
	if err := s.waitActive(ctx); err != nil {
		return err
	}
	if err := s.enableTTL(ctx); err != nil {
		return err
	}
	return s.CheckTable(ctx)
}

func (s *Store) waitActive(ctx context.Context) error {
	wait := 50 * time.Millisecond
	for {
		out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		if err != nil {
			return fmt.Errorf("dynamodb describe table %s: %w", s.table, err)
		}
		active := out.Table.TableStatus == types.TableStatusActive
		for _, g := range out.Table.GlobalSecondaryIndexes {
			active = active && g.IndexStatus == types.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for table %s to become active: %w", s.table, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (s *Store) enableTTL(ctx context.Context) error {
	out, err := s.db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	if err != nil {
		return fmt.Errorf("dynamodb describe TTL of %s: %w", s.table, err)
	}
	if d := out.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if aws.ToString(d.AttributeName) != AttrExpiresAt {
				return fmt.Errorf("table %s has TTL on %q, Switchyard needs it on %q", s.table, aws.ToString(d.AttributeName), AttrExpiresAt)
			}
			return nil
		}
	}
	_, err = s.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(s.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrExpiresAt), Enabled: aws.Bool(true)}})
	if err != nil {
		return fmt.Errorf("dynamodb enable TTL on %s.%s: %w", s.table, AttrExpiresAt, err)
	}
	return nil
}

// CheckTable verifies that the table exists with the key schema and the indexes this package uses: a
// deploy-time check that template.yaml and the code agree.
func (s *Store) CheckTable(ctx context.Context) error {
	out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		return fmt.Errorf("dynamodb describe table %s: %w", s.table, err)
	}
	want := TableInput(s.table)
	attrTypes := map[string]types.ScalarAttributeType{}
	for _, d := range out.Table.AttributeDefinitions {
		attrTypes[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	for _, d := range want.AttributeDefinitions {
		if got := attrTypes[aws.ToString(d.AttributeName)]; got != d.AttributeType {
			return fmt.Errorf("table %s: attribute %s has type %q, want %q", s.table, aws.ToString(d.AttributeName), got, d.AttributeType)
		}
	}
	if !sameKeys(out.Table.KeySchema, want.KeySchema) {
		return fmt.Errorf("table %s: key schema is not (%s HASH, %s RANGE)", s.table, AttrPK, AttrSK)
	}
	have := map[string]types.GlobalSecondaryIndexDescription{}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = g
	}
	for _, w := range want.GlobalSecondaryIndexes {
		name := aws.ToString(w.IndexName)
		g, ok := have[name]
		if !ok {
			return fmt.Errorf("table %s has no index %s", s.table, name)
		}
		if !sameKeys(g.KeySchema, w.KeySchema) {
			return fmt.Errorf("table %s: index %s is not keyed (%s HASH, %s RANGE)", s.table, name,
				aws.ToString(w.KeySchema[0].AttributeName), aws.ToString(w.KeySchema[1].AttributeName))
		}
		if g.Projection == nil || g.Projection.ProjectionType != w.Projection.ProjectionType {
			return fmt.Errorf("table %s: index %s must project %s", s.table, name, w.Projection.ProjectionType)
		}
	}
	return nil
}

func sameKeys(got, want []types.KeySchemaElement) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if aws.ToString(got[i].AttributeName) != aws.ToString(want[i].AttributeName) || got[i].KeyType != want[i].KeyType {
			return false
		}
	}
	return true
}
