package longpoll

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of a poll, the label values of kefu_longpoll_polls_total.
type pollResult uint8

const (
	pollData     pollResult = iota // answered with envelopes
	pollTimeout                    // nothing came within wait: empty answer
	pollReplaced                   // a newer poll of the session took over: empty answer
	pollClosed                     // the session ended while the poll waited
	pollGone                       // the client went away before an answer
	numPollResults
)

var pollResultNames = [numPollResults]string{"data", "timeout", "replaced", "closed", "gone"}

// Why a request was refused, the label values of
// kefu_longpoll_requests_rejected_total.
type rejectReason uint8

const (
	rejectBadRequest     rejectReason = iota // malformed body or query (400)
	rejectTooLarge                           // body or batch over the limit (413)
	rejectUnknownSession                     // missing, unknown or ended session (404)
	rejectOrigin                             // browser Origin not allowed for the site (403)
	rejectMethod                             // wrong method or path (405, 404)
	rejectAuth                               // HELLO refused (401)
	rejectSessionLimit                       // too many sessions (503)
	rejectDraining                           // the server is closing (503)
	numRejectReasons
)

var rejectReasonNames = [numRejectReasons]string{
	"bad_request", "too_large", "unknown_session", "origin", "method", "unauthenticated", "session_limit", "draining",
}

// Why a session ended, the label values of kefu_longpoll_sessions_closed_total.
type closeReason uint8

const (
	closeNone     closeReason = iota
	closeClient               // POST /lp/v1/close
	closeTimeout              // nobody polled for the session timeout
	closeSlow                 // the outbox passed the outbound limit
	closeDraining             // Server.Close
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{"none", "client", "timeout", "slow_consumer", "draining"}

func (r closeReason) String() string { return closeReasonNames[r] }

type metrics struct {
	sessions prometheus.Gauge
	polls    [numPollResults]prometheus.Counter
	rejected [numRejectReasons]prometheus.Counter
	closed   [numCloseReasons]prometheus.Counter
	received prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	pollsV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_longpoll_polls_total", Help: "Long-poll polls answered, by result.",
	}, []string{"result"})
	rejectedV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_longpoll_requests_rejected_total", Help: "Long-poll requests refused, by reason.",
	}, []string{"reason"})
	closedV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_longpoll_sessions_closed_total", Help: "Long-poll sessions ended, by reason.",
	}, []string{"reason"})
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_longpoll_sessions", Help: "Open long-poll sessions.",
		}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kefu_longpoll_envelopes_received_total", Help: "Envelopes received over long-poll (connect and send).",
		}),
	}
	for r := range numPollResults {
		m.polls[r] = pollsV.WithLabelValues(pollResultNames[r])
	}
	for r := range numRejectReasons {
		m.rejected[r] = rejectedV.WithLabelValues(rejectReasonNames[r])
	}
	for r := closeClient; r < numCloseReasons; r++ {
		m.closed[r] = closedV.WithLabelValues(closeReasonNames[r])
	}
	if reg != nil {
		reg.MustRegister(pollsV, rejectedV, closedV, m.sessions, m.received)
	}
	return m
}
