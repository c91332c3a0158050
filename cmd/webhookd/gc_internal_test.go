package main

import "testing"

// webhookd's collector defaults apply unless the Go runtime's own
// variables are set, each on its own.
func TestGCSettingsFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want gcSettings
	}{
		{"neither set", nil, gcSettings{percent: defaultGCPercent, memoryLimit: defaultMemoryLimit}},
		{"GOGC set", map[string]string{"GOGC": "100"}, gcSettings{memoryLimit: defaultMemoryLimit}},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, gcSettings{percent: defaultGCPercent}},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, gcSettings{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := gcSettingsFor(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("gcSettingsFor = %+v, want %+v", got, tt.want)
			}
		})
	}
}
