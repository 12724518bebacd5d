package sessionkit

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSessionFormattingRedactsCredentials(t *testing.T) {
	s := &Session{
		ID: "sess_1", SignIn: SignIn{ID: "a", User: User{ID: "u"}, AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET",
			IDToken: "ID-SECRET"}, JWT: "JWT-SECRET",
		OtherSignIns: []SignIn{{ID: "b", AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", IDToken: "ID-SECRET"}},
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "session", s, "signin", s.SignIn)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "session", *s)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", *s), "value %+v": fmt.Sprintf("%+v", *s),
		"signins %+v": fmt.Sprintf("%+v", s.SignIns()), "signin %#v": fmt.Sprintf("%#v", s.SignIn),
		"slog": logs.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Errorf("%s leaks a credential: %s", name, out)
		}
		if !strings.Contains(out, "sess_1") && !strings.Contains(name, "signin") {
			t.Errorf("%s lost the session ID: %s", name, out)
		}
	}
}
