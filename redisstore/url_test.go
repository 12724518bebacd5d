package redisstore

import "testing"

func TestHostsToAddrs(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"one host", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"cluster", "redis://a:7000,b:7000,c:7000", "redis://a:7000?addr=b%3A7000&addr=c%3A7000"},
		{"sentinels with a query", "redis://u:p@a:26379,b:26379/0?master_set=m", "redis://u:p@a:26379/0?master_set=m&addr=b%3A26379"},
		{"TLS with a path", "rediss://a:6380,b:6380/1", "rediss://a:6380/1?addr=b%3A6380"},
		{"unix socket", "unix:///run/redis.sock", "unix:///run/redis.sock"},
		{"not a URL", "127.0.0.1:6379", "127.0.0.1:6379"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostsToAddrs(tt.in); got != tt.want {
				t.Errorf("hostsToAddrs(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
