package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/ticketflow/ticketflow/internal/ticket"
	"github.com/ticketflow/ticketflow/workflows"
)

// TestReplayRecordedHistories replays histories recorded from real tickets on the Temporal dev
// server against today's TicketWorkflow and PumpWebhooks. A change to the workflow that would issue different
// commands for an existing history fails here; such a change must be guarded with
// workflow.GetVersion. docs/changing-the-workflow.md says how to record a new history.
func TestReplayRecordedHistories(t *testing.T) {
	for _, r := range recordedHistories(t) {
		t.Run(filepath.Base(r.file), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.TicketWorkflow)
			replayer.RegisterWorkflow(workflows.PumpWebhooks)
			if err := replayer.ReplayWorkflowHistory(nil, r.history); err != nil {
				t.Fatalf("replay %s: %v", r.file, err)
			}
		})
	}
}

// recorded is a recorded history and the file it was read from.
type recorded struct {
	file    string
	history *historypb.History
}

// recordedHistories reads every history in testdata.
func recordedHistories(t *testing.T) []recorded {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	var out []recorded
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		f.Close()
		require.NoError(t, err, file)
		out = append(out, recorded{file: file, history: h})
	}
	return out
}

// TestRecordedHistoriesCoverTheWorkflow checks that the recorded histories still hold what the
// replay must prove: runs from before changeAutomations, and runs with timers that fire and are
// cancelled, search attributes and memo, refused signals, both sides of a continue-as-new, and
// the webhook pump. A
// history dropped or re-recorded without one of them fails here rather than weakening the replay.
func TestRecordedHistoriesCoverTheWorkflow(t *testing.T) {
	found := map[string]bool{}
	for _, r := range recordedHistories(t) {
		h := r.history
		if h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName() == "PumpWebhooks" {
			found["the webhook pump"] = true
			continue
		}
		versioned := false
		for _, ev := range h.GetEvents() {
			found[ev.GetEventType().String()] = true
			if ev.GetMarkerRecordedEventAttributes() != nil {
				versioned = true
			}
			if in := ev.GetWorkflowExecutionStartedEventAttributes().GetInput(); in != nil &&
				strings.Contains(string(in.GetPayloads()[0].GetData()), `"state":`) {
				found["a run that continues a ticket"] = true
			}
			for _, p := range ev.GetActivityTaskScheduledEventAttributes().GetInput().GetPayloads() {
				if strings.Contains(string(p.GetData()), string(ticket.EventTransitionRejected)) {
					found["a refused signal"] = true
				}
			}
		}
		if !versioned {
			found["a run from before the automations"] = true
		}
	}
	for _, want := range []string{
		"a run from before the automations", "a run that continues a ticket", "a refused signal",
		"MarkerRecorded", "TimerFired", "TimerCanceled", "UpsertWorkflowSearchAttributes",
		"WorkflowPropertiesModified", "WorkflowExecutionContinuedAsNew", "WorkflowExecutionSignaled",
		"the webhook pump",
	} {
		if !found[want] {
			t.Errorf("no recorded history has %s", want)
		}
	}
}
