package helm_test

import "testing"

// With the ownership lease in a shared NATS, several pods may run: each
// agent has one owner and another pod takes it over, so rollouts may run
// old and new pods side by side and drains take one pod at a time.
func TestReplicasShareAgentsThroughLease(t *testing.T) {
	const natsURL = "config.BRIDGE_NATS_URL=nats://nats:4222"
	tests := []struct {
		name     string
		sets     []string
		replicas int
		strategy string
		lease    string
	}{
		{"three replicas", []string{natsURL, "replicaCount=3"}, 3, "RollingUpdate", "15s"},
		{"one replica with lease", []string{natsURL}, 1, "RollingUpdate", "15s"},
		{"custom lease", []string{natsURL, "replicaCount=2", "leaseTTL=1m30s"}, 2, "RollingUpdate", "1m30s"},
		{"lease off", []string{natsURL, "leaseTTL=0"}, 1, "Recreate", "0"},
		{"embedded NATS", nil, 1, "Recreate", "15s"},
		{"explicit Recreate with lease", []string{natsURL, "replicaCount=2", "strategy.type=Recreate"}, 2, "Recreate", "15s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := manifests(t, tc.sets...)
			dep := objs["Deployment"]
			if r := get(t, dep, "spec", "replicas"); r != tc.replicas {
				t.Errorf("replicas %v, want %d", r, tc.replicas)
			}
			if s := get(t, dep, "spec", "strategy", "type"); s != tc.strategy {
				t.Errorf("strategy %v, want %s", s, tc.strategy)
			}
			if tc.strategy == "RollingUpdate" {
				// The new pod is up before the old one stops; never fewer pods than asked.
				ru := get(t, dep, "spec", "strategy", "rollingUpdate")
				if get(t, ru, "maxSurge") != 1 || get(t, ru, "maxUnavailable") != 0 {
					t.Errorf("rollingUpdate %v, want maxSurge 1 and maxUnavailable 0", ru)
				}
			} else if ru := get(t, dep, "spec", "strategy", "rollingUpdate"); ru != nil {
				t.Errorf("Recreate with rollingUpdate %v", ru)
			}
			if v := get(t, objs["ConfigMap"], "data", "BRIDGE_LEASE_TTL"); v != tc.lease {
				t.Errorf("ConfigMap BRIDGE_LEASE_TTL = %v, want %q", v, tc.lease)
			}
			// Voluntary disruptions take one pod at a time (and never block a
			// single replica's drain).
			if v := get(t, objs["PodDisruptionBudget"], "spec", "maxUnavailable"); v != 1 {
				t.Errorf("PDB maxUnavailable %v, want 1", v)
			}
		})
	}
}

// The graceful shutdown fits in the grace period, in any duration notation.
func TestGracePeriodCoversShutdown(t *testing.T) {
	for _, tc := range []struct {
		shutdown string
		grace    string
		ok       bool
	}{
		{"20s", "30", true},
		{"1m30s", "91", true},
		{"1m30s", "90", false},
		{"1.5m", "90", false},
		{"90000ms", "91", true},
		{"2m", "100", false},
	} {
		_, err := render(t, chartDir, "config.BRIDGE_SHUTDOWN_TIMEOUT="+tc.shutdown, "terminationGracePeriodSeconds="+tc.grace)
		if (err == nil) != tc.ok {
			t.Errorf("shutdown %s, grace %ss: err %v, want ok=%v", tc.shutdown, tc.grace, err, tc.ok)
		}
	}
}
