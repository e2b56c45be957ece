package trigger

import "fmt"

// MaxRecordBytes bounds a Workflow's record of acted-on changes
// (status.lastObservedResourceGeneration). The record is written whole with
// each decision, and a Workflow must stay well inside the API server's
// request limit and etcd's 1.5 MiB object limit.
const MaxRecordBytes = 768 << 10

// RecordBytes is about how many bytes record takes in a Workflow's status
// as JSON: each entry's key and value, quoted, with ':' and ','.
func RecordBytes(record map[string]string) int {
	n := 2
	for k, v := range record {
		n += len(k) + len(v) + 6
	}
	return n
}

// CheckRecordSize says why record cannot be kept, or "" when it fits.
func CheckRecordSize(record map[string]string) string {
	size := RecordBytes(record)
	if size <= MaxRecordBytes {
		return ""
	}
	return fmt.Sprintf("the triggers match %d objects; recording the changes acted on takes %d KiB of the Workflow's status, "+
		"more than the %d KiB it may hold (about %d objects): nothing runs until the triggers are narrowed with name, "+
		"namespace or a selector that requires a label value", len(record), size>>10, MaxRecordBytes>>10, MaxRecordBytes/RecordBytes(map[string]string{"00000000-0000-0000-0000-000000000000": "h:0123456789abcdef"}))
}
