package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/lpbridge/lpbridge/internal/state"
)

// Config is the bridge's whole configuration, read from BRIDGE_* environment
// variables. The README's configuration table is checked against this struct.
type Config struct {
	// NATSURL is the NATS server to use; empty starts an embedded server with JetStream.
	NATSURL string `envconfig:"NATS_URL" desc:"NATS server URL; empty starts an embedded nats-server with JetStream"`
	// NATSCredsFile is a NATS credentials (JWT + nkey seed) file.
	NATSCredsFile string `envconfig:"NATS_CREDS_FILE" desc:"NATS credentials file (JWT + nkey seed)"`
	// NATSNKeyFile is a file holding an nkey seed.
	NATSNKeyFile string `envconfig:"NATS_NKEY_FILE" desc:"NATS nkey seed file"`
	// NATSUser and NATSPassword authenticate with user and password.
	NATSUser     string `envconfig:"NATS_USER" desc:"NATS user name"`
	NATSPassword string `envconfig:"NATS_PASSWORD" desc:"NATS password"`
	// NATSToken authenticates with a token.
	NATSToken string `envconfig:"NATS_TOKEN" desc:"NATS token"`
	// NATSCAFile, NATSCertFile and NATSKeyFile configure TLS.
	NATSCAFile   string `envconfig:"NATS_CA_FILE" desc:"CA certificate file to verify the NATS server"`
	NATSCertFile string `envconfig:"NATS_CERT_FILE" desc:"client certificate file for NATS TLS"`
	NATSKeyFile  string `envconfig:"NATS_KEY_FILE" desc:"client key file for NATS TLS"`
	// NATSReconnectBuffer is how many bytes of publishes the NATS client
	// keeps while it reconnects (nats.go's ReconnectBufSize): they are sent
	// once it is back. Past it a publish fails at once; the events are
	// published again from the cursor after the reconnect, so a full buffer
	// loses nothing. -1 keeps none.
	NATSReconnectBuffer int `envconfig:"NATS_RECONNECT_BUFFER" default:"8388608" desc:"bytes of publishes kept while NATS reconnects, sent once it is back; past them a publish fails and is retried from the cursor after the reconnect (nothing is lost); -1 keeps none"`
	// EmbeddedNATSDir is where the embedded server keeps JetStream data; empty = a temporary directory.
	EmbeddedNATSDir string `envconfig:"EMBEDDED_NATS_DIR" desc:"JetStream store directory of the embedded server; empty = a temporary directory"`

	// LPAccount is the LivePerson account id; empty runs the embedded simulator with demo agents.
	LPAccount string `envconfig:"LP_ACCOUNT" desc:"LivePerson account id; empty runs the embedded simulator with demo agents and scripted visitors"`
	// LPDomainURL is the Domain API base URL.
	LPDomainURL string `envconfig:"LP_DOMAIN_URL" default:"https://api.liveperson.net" desc:"Domain API (CSDS) base URL; point it at any server that speaks the Chat Agent API"`
	// LPAllowInsecureHTTP permits plain HTTP towards LP_DOMAIN_URL (simulator, test doubles).
	LPAllowInsecureHTTP bool `envconfig:"LP_ALLOW_INSECURE_HTTP" default:"false" desc:"allow plain HTTP to the Domain and Chat Agent API (simulator, test doubles only)"`
	// LPCAFile adds CA certificates to the system's for the Domain and Chat
	// Agent API: a TLS-inspecting proxy, or a simulator with a test
	// certificate [empty: the system's only].
	LPCAFile string `envconfig:"LP_CA_FILE" desc:"PEM file of CA certificates trusted for the Domain and Chat Agent API besides the system's (a TLS-inspecting proxy, a simulator's test certificate)"`

	// AgentsFile lists agents and their credentials (JSON); see README.
	AgentsFile string `envconfig:"AGENTS_FILE" desc:"JSON file listing agents and their credentials"`
	// AgentLogin and the following fields configure one agent from the environment.
	AgentLogin             string `envconfig:"AGENT_LOGIN" desc:"login name of a single agent (instead of AGENTS_FILE)"`
	AgentPassword          string `envconfig:"AGENT_PASSWORD" desc:"password of that agent (user login: a person's account)"`
	AgentClientID          string `envconfig:"AGENT_CLIENT_ID" desc:"client id of that agent's OAuth2 app (application login: how bots log in)"`
	AgentClientSecret      string `envconfig:"AGENT_CLIENT_SECRET" desc:"client secret of that agent's OAuth2 app"`
	AgentAppKey            string `envconfig:"AGENT_APP_KEY" desc:"app key: an OAuth2 client id (with AGENT_SECRET alone), or an old OAuth1 API key's consumer key"`
	AgentSecret            string `envconfig:"AGENT_SECRET" desc:"secret: an OAuth2 client secret, or an old OAuth1 API key's consumer secret"`
	AgentAccessToken       string `envconfig:"AGENT_ACCESS_TOKEN" desc:"OAuth1 API key access token (end of life 2026-04-30; empty for an OAuth2 app)"`
	AgentAccessTokenSecret string `envconfig:"AGENT_ACCESS_TOKEN_SECRET" desc:"OAuth1 API key access token secret (end of life 2026-04-30; empty for an OAuth2 app)"`
	// AgentGoOnline sets the env agent Online once its session starts.
	AgentGoOnline bool `envconfig:"AGENT_GO_ONLINE" default:"true" desc:"set the agent Online when its session starts"`
	// AgentAutoAccept accepts ringing chats at once.
	AgentAutoAccept bool `envconfig:"AGENT_AUTO_ACCEPT" default:"false" desc:"accept ringing chats at once (otherwise chat.accept commands take them)"`
	// AgentRestoreAvailability sets the env agent's availability back after
	// the service changed it (Away after a missed ring); off by default, so
	// a bot that does not answer is not rung again and again.
	AgentRestoreAvailability bool `envconfig:"AGENT_RESTORE_AVAILABILITY" default:"false" desc:"set the agent's availability back (at most once a minute) after the service changed it, e.g. Away after a ring was not accepted within 20 s; see Routing"`

	// PollInterval is the time between polls of one agent.
	PollInterval time.Duration `envconfig:"POLL_INTERVAL" default:"2s" desc:"time between two polls of one agent (LivePerson asks for at least 2s)"`
	// RefreshInterval is the time between login refreshes.
	RefreshInterval time.Duration `envconfig:"REFRESH_INTERVAL" default:"5m" desc:"time between login session refreshes"`
	// RequestsPerSecond is the request budget per account, shared by its agents.
	RequestsPerSecond float64 `envconfig:"REQUESTS_PER_SECOND" default:"10" desc:"LivePerson request budget per account, shared by its agents"`

	// LoginsAtOnce bounds the agents logging in at the same time.
	LoginsAtOnce int `envconfig:"LOGINS_AT_ONCE" default:"32" desc:"agents that log in and start their agent session at the same time; the others wait their turn, so a large fleet starting together does not open a connection per agent at once. 0: no bound"`

	// SubjectPrefix is the first token of every subject.
	SubjectPrefix string `envconfig:"SUBJECT_PREFIX" default:"lp" desc:"first token of every subject"`
	// StreamName is the JetStream stream capturing events.
	StreamName string `envconfig:"STREAM_NAME" default:"LP_EVENTS" desc:"JetStream stream that captures the events"`
	// StreamMaxAge is how long the stream keeps events.
	StreamMaxAge time.Duration `envconfig:"STREAM_MAX_AGE" default:"168h" desc:"how long the stream keeps events"`
	// StreamReplicas is the stream's replica count.
	StreamReplicas int `envconfig:"STREAM_REPLICAS" default:"1" desc:"replicas of the stream and KV buckets"`
	// DuplicateWindow is the stream's duplicate window; it must cover a
	// restart (default events.DefaultDuplicateWindow).
	DuplicateWindow time.Duration `envconfig:"DUPLICATE_WINDOW" default:"10m" desc:"JetStream duplicate window (must cover a bridge restart)"`
	// StateBucket is the KV bucket holding cursors and agent state.
	StateBucket string `envconfig:"STATE_BUCKET" default:"LP_CURSORS" desc:"KV bucket holding per-chat cursors and agent state"`
	// LeaseTTL is how long an agent's lease outlives its owner; 0 disables leases.
	LeaseTTL time.Duration `envconfig:"LEASE_TTL" default:"15s" desc:"lease per agent across replicas: only its holder polls the agent and renews it every third of this; another replica takes over about this long after the holder dies. Whole seconds; 0 disables leases (then run one replica per set of agents)"`
	// LeaseBucket is the KV bucket holding the agents' leases.
	LeaseBucket string `envconfig:"LEASE_BUCKET" default:"LP_LEASES" desc:"KV bucket holding the agents' leases"`
	// EventEncoding is binary (ce-* headers) or structured (application/cloudevents+json).
	EventEncoding string `envconfig:"EVENT_ENCODING" default:"binary" desc:"CloudEvents mode on NATS: binary (ce-* headers, JSON body) or structured"`
	// DataSchemaBase prefixes each event's dataschema; its default is the
	// base of the schemas' $id (events.DefaultDataSchemaBase).
	DataSchemaBase string `envconfig:"DATA_SCHEMA_BASE" default:"https://lpbridge.dev/schemas" desc:"base URL of the dataschema attribute"`

	// CommandsDurable also consumes durable commands captured by a stream.
	CommandsDurable bool `envconfig:"COMMANDS_DURABLE" default:"false" desc:"also consume durable commands (<prefix>.dcmd.>) captured by COMMANDS_STREAM"`
	// CommandsStream is the stream of durable commands.
	CommandsStream string `envconfig:"COMMANDS_STREAM" default:"LP_COMMANDS" desc:"stream of durable commands (<prefix>.dcmd.>)"`
	// CommandsDLQStream is the stream of dead letters.
	CommandsDLQStream string `envconfig:"COMMANDS_DLQ_STREAM" default:"LP_COMMANDS_DLQ" desc:"stream of dead-lettered commands (<prefix>.dlq.>)"`
	// CommandsResultsBucket is the KV bucket of command results.
	CommandsResultsBucket string `envconfig:"COMMANDS_RESULTS_BUCKET" default:"LP_COMMAND_RESULTS" desc:"KV bucket of command results (dedupe by command id)"`
	// CommandsResultTTL is how long a command id is remembered.
	CommandsResultTTL time.Duration `envconfig:"COMMANDS_RESULT_TTL" default:"24h" desc:"how long a command id is remembered"`
	// CommandsTimeout bounds one run of a command.
	CommandsTimeout time.Duration `envconfig:"COMMANDS_TIMEOUT" default:"45s" desc:"bound of one run of a command"`
	// CommandsMaxDeliver is how often a durable command is tried.
	CommandsMaxDeliver int `envconfig:"COMMANDS_MAX_DELIVER" default:"6" desc:"tries of a durable command before it is dead-lettered (after 1 s, 5 s, 30 s, 2 min and 4 min: about 6.5 minutes, longer than an agent's first re-login wait after an outage)"`
	// CommandsMaxBodyBytes bounds a command body.
	CommandsMaxBodyBytes int `envconfig:"COMMANDS_MAX_BODY_BYTES" default:"65536" desc:"largest command body"`

	// ShutdownTimeout bounds the graceful shutdown after SIGTERM.
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"20s" desc:"bound of the graceful shutdown (finish commands, set Away, save cursors, drain NATS); keep it below the pod's terminationGracePeriodSeconds"`
	// AwayOnStop sets each agent Away before the bridge stops.
	AwayOnStop bool `envconfig:"AWAY_ON_STOP" default:"false" desc:"set each agent Away at shutdown, so no chat is routed to it while no bridge polls"`
	// LogoutOnStop logs each agent out at shutdown (agent.session ended).
	LogoutOnStop bool `envconfig:"LOGOUT_ON_STOP" default:"false" desc:"log each agent out at shutdown and publish agent.session ended; off, a restarted bridge resumes the agent session and its chats"`

	// StallAfter is how long an agent may go without a successful poll
	// before /readyz reports the bridge unready.
	StallAfter time.Duration `envconfig:"STALL_AFTER" default:"1m" desc:"an agent without a successful poll for this long makes /readyz unready (at least 2 poll intervals and the lease TTL)"`

	// HTTPAddr serves /metrics, /livez and /readyz; empty disables it.
	HTTPAddr string `envconfig:"HTTP_ADDR" default:"127.0.0.1:8080" desc:"address of the HTTP server for /metrics, /livez, /readyz (:8080 in Kubernetes); empty disables it"`
	// Pprof serves Go's profiles under /debug/pprof/ on HTTPAddr, for
	// profiles at scale; off because they reveal internals [false].
	Pprof bool `envconfig:"PPROF" default:"false" desc:"serve Go profiles under /debug/pprof/ on BRIDGE_HTTP_ADDR (keep that address private)"`

	// OTLPEndpoint is the OpenTelemetry collector receiving traces; empty disables tracing.
	OTLPEndpoint string `envconfig:"OTLP_ENDPOINT" desc:"OpenTelemetry collector for traces (OTLP/HTTP): host:port or http(s)://host:port[/path]; empty disables tracing"`
	// OTLPInsecure sends traces over plain HTTP to a host:port endpoint.
	OTLPInsecure bool `envconfig:"OTLP_INSECURE" default:"false" desc:"plain HTTP to a host:port BRIDGE_OTLP_ENDPOINT (a URL's scheme decides by itself)"`
	// TraceSampleRatio is the fraction of new traces sampled.
	TraceSampleRatio float64 `envconfig:"TRACE_SAMPLE_RATIO" default:"1" desc:"fraction of new traces (poll ticks, commands without a traceparent) sampled, 0 < r <= 1; a command's traceparent decides for its own trace"`

	// LogFormat is text or json.
	LogFormat string `envconfig:"LOG_FORMAT" default:"text" desc:"log format: text or json"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"LOG_LEVEL" default:"info" desc:"log level: debug, info, warn, error"`
	// ShowEvents prints every event in the terminal (default on in the embedded demo).
	ShowEvents string `envconfig:"SHOW_EVENTS" default:"auto" desc:"print every event readably on stdout: true, false, or auto (on in the embedded demo)"`
	// SimVisitorsPerMinute is the scripted visitors' chat rate of the embedded simulator.
	SimVisitorsPerMinute float64 `envconfig:"SIM_VISITORS_PER_MINUTE" default:"6" desc:"new scripted visitor chats per minute in the embedded demo"`
}

// embeddedSim reports whether the bridge runs the simulator in process.
func (c Config) embeddedSim() bool { return c.LPAccount == "" }

// Validate joins every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("BRIDGE_POLL_INTERVAL must be positive"))
	}
	if c.RefreshInterval <= 0 {
		errs = append(errs, errors.New("BRIDGE_REFRESH_INTERVAL must be positive"))
	}
	if c.LoginsAtOnce < 0 {
		errs = append(errs, errors.New("BRIDGE_LOGINS_AT_ONCE must not be negative"))
	}
	if c.RequestsPerSecond <= 0 {
		errs = append(errs, errors.New("BRIDGE_REQUESTS_PER_SECOND must be positive"))
	}
	if c.EventEncoding != "binary" && c.EventEncoding != "structured" {
		errs = append(errs, fmt.Errorf("BRIDGE_EVENT_ENCODING %q: want binary or structured", c.EventEncoding))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("BRIDGE_LOG_FORMAT %q: want text or json", c.LogFormat))
	}
	switch c.ShowEvents {
	case "auto", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("BRIDGE_SHOW_EVENTS %q: want true, false or auto", c.ShowEvents))
	}
	if !c.embeddedSim() && c.AgentsFile == "" && c.AgentLogin == "" {
		errs = append(errs, errors.New("BRIDGE_LP_ACCOUNT is set: set BRIDGE_AGENTS_FILE or BRIDGE_AGENT_LOGIN too"))
	}
	if c.AgentsFile != "" && c.AgentLogin != "" {
		errs = append(errs, errors.New("set BRIDGE_AGENTS_FILE or BRIDGE_AGENT_LOGIN, not both"))
	}
	if c.DuplicateWindow < time.Minute {
		errs = append(errs, errors.New("BRIDGE_DUPLICATE_WINDOW must be at least 1m so a restart stays inside it"))
	}
	if c.TraceSampleRatio <= 0 || c.TraceSampleRatio > 1 {
		errs = append(errs, fmt.Errorf("BRIDGE_TRACE_SAMPLE_RATIO %v: want 0 < r <= 1", c.TraceSampleRatio))
	}
	if c.LeaseTTL < 0 || (c.LeaseTTL > 0 && (c.LeaseTTL < state.MinLeaseTTL || c.LeaseTTL%time.Second != 0)) {
		errs = append(errs, fmt.Errorf("BRIDGE_LEASE_TTL %s: want 0 (no leases) or whole seconds, at least %s", c.LeaseTTL, state.MinLeaseTTL))
	}
	if c.NATSReconnectBuffer == 0 || c.NATSReconnectBuffer < -1 {
		errs = append(errs, fmt.Errorf("BRIDGE_NATS_RECONNECT_BUFFER %d: want a number of bytes, or -1 for none", c.NATSReconnectBuffer))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("BRIDGE_SHUTDOWN_TIMEOUT must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	return nil
}
