package workflows_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/ticketflow/ticketflow"
	"github.com/ticketflow/ticketflow/workflows"
)

// retiredCommand is a command payload as the first builds wrote it, with the action that the
// message's name also says; the workflow ignores it.
type retiredCommand struct {
	ticketflow.Command
	Action string `json:"action"`
}

// TestRecordedPayloadsDecode reads every payload of the recorded histories (starts and
// continue-as-new inputs, update and signal arguments, update answers, the persist activity's
// input, the workflow's result) into today's wire type, refusing any field that the type does not
// know: a field dropped or renamed in the wire types, which replay alone would not notice because
// it compares commands and not payloads, fails here.
func TestRecordedPayloadsDecode(t *testing.T) {
	decoded := map[string]int{}
	for _, r := range recordedHistories(t) {
		file, h := r.file, r.history
		updates := map[string]string{} // protocol instance ID → update name
		decode := func(kind string, p *commonpb.Payloads, into any) {
			t.Helper()
			for _, pl := range p.GetPayloads() {
				dec := json.NewDecoder(bytes.NewReader(pl.GetData()))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(into), "%s: %s payload %s", file, kind, pl.GetData())
				decoded[kind]++
			}
		}
		for _, ev := range h.GetEvents() {
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				decode("start", a.GetInput(), &workflows.Input{})
			}
			if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
				decode("continue-as-new", a.GetInput(), &workflows.Input{})
			}
			if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
				decode("signal", a.GetInput(), &retiredCommand{})
			}
			if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
				name := a.GetAcceptedRequest().GetInput().GetName()
				updates[a.GetProtocolInstanceId()] = name
				decode("update", a.GetAcceptedRequest().GetInput().GetArgs(), &retiredCommand{})
			}
			if a := ev.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil {
				var into any = &ticketflow.Change{}
				if updates[a.GetMeta().GetUpdateId()] == ticketflow.UpdateCreate {
					into = &ticketflow.Ticket{}
				}
				decode("update answer", a.GetOutcome().GetSuccess(), into)
			}
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Persist" {
				decode("persist", a.GetInput(), &[]ticketflow.Change{})
			}
			if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
				decode("result", a.GetResult(), &ticketflow.Ticket{})
			}
		}
	}
	for _, kind := range []string{"start", "continue-as-new", "signal", "update", "update answer", "persist", "result"} {
		require.NotZero(t, decoded[kind], "no recorded history has a %s payload", kind)
	}
}
