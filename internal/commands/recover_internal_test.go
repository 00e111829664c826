package commands

import (
	"context"
	"strings"
	"testing"
)

func TestRecoveredTurnsPanicIntoInternalFailure(t *testing.T) {
	e := newStepEnv(t, noSessions{}, nil)
	d := e.delivery(modeRequest, AgentStatus, "p-1")
	out := e.c.recovered(func(context.Context, *delivery) outcome { panic("handler bug") })(context.Background(), d)
	if out.err == nil || out.err.Code != CodeInternal {
		t.Fatalf("outcome error %v, want internal", out.err)
	}
	if !out.deadLetter || !out.final || out.redeliver {
		t.Errorf("outcome deadLetter=%v final=%v redeliver=%v, want a final dead letter", out.deadLetter, out.final, out.redeliver)
	}
	if out.cmd.ID != "p-1" || out.reply.OK || out.reply.Error.Code != string(CodeInternal) {
		t.Errorf("outcome %+v does not answer command p-1 with internal", out)
	}
	if log := e.log.String(); !strings.Contains(log, "command handling panicked") || !strings.Contains(log, "handler bug") {
		t.Errorf("the panic is not logged: %s", log)
	}

	s := &stub{out: outcome{cmd: d.cmd, final: true}}
	if got := e.c.recovered(s.step)(context.Background(), d); s.calls != 1 || got.err != nil || !got.final {
		t.Errorf("without a panic the outcome %+v is not passed on as it is", got)
	}
}
