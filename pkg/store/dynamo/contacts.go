package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// A contact is the item (CONTACTS#<site>, CONTACT#<id>) with its document and its revision as a number
// (the guard of UpdateContact). Contacts have a partition per site of their own, apart from SITE#<site>,
// so that QueryAutomations and ListDrafts never page through them and QueryContacts reads nothing else.
const (
	prefixContacts = "CONTACTS"
	prefixContact  = "CONTACT"
)

func contactKey(site, id string) (string, string) {
	return key(prefixContacts, site), key(prefixContact, id)
}

func contactItem(siteID string, c *contacts.Contact) (item, error) {
	doc, err := encodeDoc(fmt.Sprintf("contact %s of site %s", c.ID, siteID), c)
	if err != nil {
		return nil, err
	}
	pk, sk := contactKey(siteID, c.ID)
	it := newItem("contact", pk, sk, doc)
	rev, _ := strconv.ParseInt(c.Revision, 10, 64)
	it[attrRevision] = num(rev)
	return it, nil
}

// CreateContact stores a new contact of a site (PutItem if absent); errs.ErrConflict when the id is taken.
func (s *Store) CreateContact(ctx context.Context, siteID string, c *contacts.Contact) error {
	it, err := contactItem(siteID, c)
	if err != nil {
		return err
	}
	return s.putNew(ctx, fmt.Sprintf("contact %s of site %s", c.ID, siteID), it)
}

// GetContact reads one contact of a site (GetItem, strongly consistent); the site is part of the key.
func (s *Store) GetContact(ctx context.Context, siteID, id string) (*contacts.Contact, error) {
	var c contacts.Contact
	pk, sk := contactKey(siteID, id)
	if _, err := s.getDoc(ctx, fmt.Sprintf("contact %s of site %s", id, siteID), pk, sk, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateContact replaces a contact if its stored revision is expectedRevision and records that the new
// revision's contact_updated report is pending: one TransactWriteItems of the contact (Put conditional on
// the revision) and its outbox item (contactReportItem). On a failed condition one GetItem tells
// errs.ErrNotFound from errs.ErrConflict.
func (s *Store) UpdateContact(ctx context.Context, siteID string, c *contacts.Contact, expectedRevision int64) error {
	what := fmt.Sprintf("contact %s of site %s", c.ID, siteID)
	it, err := contactItem(siteID, c)
	if err != nil {
		return err
	}
	rev, _ := strconv.ParseInt(c.Revision, 10, 64)
	rep := contactReportItem(siteID, c.ID, rev, getStr(it, attrDoc), c.UpdatedDate, 0)
	t := s.newTxn()
	t.put("contact", it, "#revision = :expected", item{":expected": num(expectedRevision)})
	t.put("pending report", rep, "", nil)
	err = s.transact(ctx, "update "+what, t)
	if !errors.Is(err, errs.ErrConflict) {
		return err
	}
	pk, sk := contactKey(siteID, c.ID)
	cur, gerr := s.get(ctx, what, pk, sk)
	if gerr != nil {
		return gerr // errs.ErrNotFound when absent
	}
	stored, _ := getNum(cur, attrRevision)
	return fmt.Errorf("%s is at revision %d, not %d: %w", what, stored, expectedRevision, errs.ErrConflict)
}

// DeleteContact removes a site's contact (DeleteItem if it exists); errs.ErrNotFound when absent.
func (s *Store) DeleteContact(ctx context.Context, siteID, id string) error {
	what := fmt.Sprintf("contact %s of site %s", id, siteID)
	pk, sk := contactKey(siteID, id)
	cond := "attribute_exists(#pk)"
	err := retryTransient(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond)})
		return classify(err, "delete "+what)
	})
	if errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	return err
}

// QueryContacts pages through a site's contacts with a WQL query: one strongly consistent, paginated Query
// of the site's contact partition, evaluated in memory with [wql.Query.Page] (DynamoDB can neither sort on
// a field of a JSON document nor resume at a WQL cursor). Every page costs reading all of the site's
// contacts; SQLite runs the query in SQL. A site with many thousands of contacts wants an index per sort
// field here, which is left for when one exists.
func (s *Store) QueryContacts(ctx context.Context, siteID string, q *wql.Query) ([]*contacts.Contact, string, error) {
	pk := key(prefixContacts, siteID)
	var docs []map[string]any
	raw := map[string]string{}
	err := s.query(ctx, "contacts of site "+siteID, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ProjectionExpression:      aws.String("#doc, #expiresAt"),
		ExpressionAttributeNames:  names("#pk #doc #expiresAt"),
		ExpressionAttributeValues: item{":pk": str(pk)},
	}, func(it item) error {
		d := getStr(it, attrDoc)
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			return fmt.Errorf("decode stored contact of site %s: %w", siteID, err)
		}
		id, _ := m["id"].(string)
		raw[id] = d
		docs = append(docs, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageDocuments[contacts.Contact](q, docs, raw, "contact of site "+siteID)
}
