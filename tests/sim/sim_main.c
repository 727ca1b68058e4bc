/*
 * booktape-sim: a local exchange (Gate.io spot v4, MEXC spot v3,
 * Binance spot or OKX v5, by --exchange) for tests and benchmarks. One process,
 * one lws context, one vhost on 127.0.0.1 serving WS (any path) and REST, TLS
 * when given a certificate. See tests/sim/README.md.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define PROG "booktape-sim"

/* Signal handlers may only set a flag and wake the loop. */
static volatile sig_atomic_t sim_stop;
static struct lws_context *sim_sig_cx;

static const char usage_text[] =
	"usage: " PROG " [options]\n"
	"  --exchange X        gateio (default), mexc, binance or okx\n"
	"  --check-vector F    compare the MEXC encoder with the protobuf\n"
	"                      test vector F, then exit (0 equal, 1 not)\n"
	"  --port N            listen port (0 = any, default)\n"
	"  --listen ADDR       IPv4 address to listen on (127.0.0.1); a test\n"
	"                      host bridge's own address, never another\n"
	"  --port-file F       write the listening port to F\n"
	"  --tls-cert F --tls-key F   serve wss/https\n"
	"  --pairs A,B         pairs to simulate (gateio: BTC_USDT,ETH_USDT;\n"
	"                      mexc, binance: BTCUSDT,ETHUSDT; okx:\n"
	"                      BTC-USDT,ETH-USDT)\n"
	"  --seed N            PRNG seed (1)\n"
	"  --rate R            book changes per second per pair (100)\n"
	"  --rate-skew S       the Nth pair of --pairs changes rate / N^S\n"
	"                      times a second (0: all alike)\n"
	"  --depth N           max levels per side (50)\n"
	"  --truth-dir D       write D/<PAIR>.truth.csv\n"
	"  --script S          faults: T:KIND[:PAIR][:N],...\n"
	"  --full-every S      random full pushes, mean period S seconds\n"
	"  --ping-interval S   server protocol PING period (20)\n"
	"  --idle-close S      close sockets without sub or ping (30)\n"
	"  --flood N           send N 5-level pushes per sub, then close\n"
	"  --flood-stream S    gateio: the flood rendered before listening,\n"
	"                      obu (ob.PAIR.400, default) or update (100ms)\n"
	"  --replay DIR        serve extracted_<PAIR>_* captures\n"
	"  --ring N            changes kept per pair (65536)\n"
	"  --max-queue BYTES   per-connection send queue cap (64 MiB)\n"
	"  --duration S        exit after S seconds\n"
	"  --conn-lag-ms N     odd connections (the 2nd, 4th, ...) write\n"
	"                      every frame N ms later than it was made\n"
	"  --lifetime S        close each connection S seconds after it\n"
	"                      opened (MEXC's 24 h, compressed; 0 = never)\n"
	"  --window-leave M    a level pushed out of a stream's window is\n"
	"                      sent as a delete (zero, default) or not (silent)\n"
	"  --heartbeat S       okx: idle heartbeat push after S s (60)\n"
	"  --seq-reset S       okx: seqIds restart lower after S s (off)\n"
	"  --no-snapshot       okx: snapshot-less books; REST has seqId\n"
	"  --checksum          okx: the legacy CRC32 checksum (else 0)\n"
	"exit: 0 ok (also on SIGTERM), 1 failure, 2 usage\n";

static void on_signal(int sig)
{
	(void)sig;
	sim_stop = 1;
	if (sim_sig_cx != NULL)
		lws_cancel_service(sim_sig_cx);
}

int64_t sim_now_us(void)
{
	return time_now_us();
}

struct sim_pair *sim_pair_find(struct sim *sim, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sim->npairs; i++)
		if (strlen(sim->pairs[i].name) == n &&
		    memcmp(sim->pairs[i].name, name, n) == 0)
			return &sim->pairs[i];
	return NULL;
}

static int num_arg(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*out >= lo) ||
	    !(*out <= hi)) {
		log_err("bad number '%s'", s);
		return -1;
	}
	return 0;
}

enum {
	O_PORT = 256,
	O_PORT_FILE,
	O_CERT,
	O_KEY,
	O_PAIRS,
	O_SEED,
	O_RATE,
	O_DEPTH,
	O_TRUTH,
	O_SCRIPT,
	O_FULL,
	O_PING,
	O_IDLE,
	O_FLOOD,
	O_REPLAY,
	O_RING,
	O_MAXQ,
	O_DURATION,
	O_WINDOW_LEAVE,
	O_LIFETIME,
	O_EXCHANGE,
	O_CHECK_VECTOR,
	O_HELP,
	O_LISTEN,
	O_CONN_LAG,
	O_HEARTBEAT,
	O_SEQ_RESET,
	O_NO_SNAPSHOT,
	O_OKX_CHECKSUM,
	O_FLOOD_STREAM,
	O_RATE_SKEW
};

static const struct option long_opts[] = {
	{ "port", 1, NULL, O_PORT },
	{ "port-file", 1, NULL, O_PORT_FILE },
	{ "tls-cert", 1, NULL, O_CERT },
	{ "tls-key", 1, NULL, O_KEY },
	{ "pairs", 1, NULL, O_PAIRS },
	{ "seed", 1, NULL, O_SEED },
	{ "rate", 1, NULL, O_RATE },
	{ "depth", 1, NULL, O_DEPTH },
	{ "truth-dir", 1, NULL, O_TRUTH },
	{ "script", 1, NULL, O_SCRIPT },
	{ "full-every", 1, NULL, O_FULL },
	{ "ping-interval", 1, NULL, O_PING },
	{ "idle-close", 1, NULL, O_IDLE },
	{ "flood", 1, NULL, O_FLOOD },
	{ "replay", 1, NULL, O_REPLAY },
	{ "ring", 1, NULL, O_RING },
	{ "max-queue", 1, NULL, O_MAXQ },
	{ "duration", 1, NULL, O_DURATION },
	{ "window-leave", 1, NULL, O_WINDOW_LEAVE },
	{ "lifetime", 1, NULL, O_LIFETIME },
	{ "conn-lag-ms", 1, NULL, O_CONN_LAG },
	{ "exchange", 1, NULL, O_EXCHANGE },
	{ "check-vector", 1, NULL, O_CHECK_VECTOR },
	{ "help", 0, NULL, O_HELP },
	{ "listen", 1, NULL, O_LISTEN },
	{ "heartbeat", 1, NULL, O_HEARTBEAT },
	{ "seq-reset", 1, NULL, O_SEQ_RESET },
	{ "no-snapshot", 0, NULL, O_NO_SNAPSHOT },
	{ "checksum", 0, NULL, O_OKX_CHECKSUM },
	{ "flood-stream", 1, NULL, O_FLOOD_STREAM },
	{ "rate-skew", 1, NULL, O_RATE_SKEW },
	{ NULL, 0, NULL, 0 },
};

static int set_num(struct sim_opts *o, int opt, double v)
{
	switch (opt) {
	case O_PORT:
		o->port = (int)v;
		break;
	case O_SEED:
		o->seed = (uint64_t)v;
		break;
	case O_RATE:
		o->rate = v;
		break;
	case O_DEPTH:
		o->depth = (int)v;
		break;
	case O_FULL:
		o->full_every_s = v;
		break;
	case O_PING:
		o->ping_s = (int)v;
		break;
	case O_IDLE:
		o->idle_close_s = (int)v;
		break;
	case O_FLOOD:
		o->flood = (uint64_t)v;
		break;
	case O_RING:
		o->ring = (size_t)v;
		break;
	case O_MAXQ:
		o->max_queue = (size_t)v;
		break;
	case O_DURATION:
		o->duration_s = v;
		break;
	case O_LIFETIME:
		o->lifetime_s = v;
		break;
	case O_CONN_LAG:
		o->conn_lag_ms = v;
		break;
	case O_HEARTBEAT:
		o->heartbeat_s = v;
		break;
	case O_SEQ_RESET:
		o->seq_reset_s = v;
		break;
	case O_RATE_SKEW:
		o->rate_skew = v;
		break;
	default:
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	static const double hi[] = { [O_PORT - O_PORT] = 65535,
				     [O_DEPTH - O_PORT] = 5000,
				     [O_PING - O_PORT] = 65535,
				     [O_IDLE - O_PORT] = 86400 };
	struct in_addr a4;
	int c;
	double v;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case O_PORT_FILE:
			o->port_file = optarg;
			break;
		case O_CERT:
			o->cert = optarg;
			break;
		case O_KEY:
			o->key = optarg;
			break;
		case O_PAIRS:
			o->pairs = optarg;
			break;
		case O_TRUTH:
			o->truth_dir = optarg;
			break;
		case O_SCRIPT:
			o->script = optarg;
			break;
		case O_REPLAY:
			o->replay_dir = optarg;
			break;
		case O_EXCHANGE:
			o->exchange = optarg;
			break;
		case O_CHECK_VECTOR:
			exit(mexc_vector_check(optarg) == 0 ? 0 : 1);
		case O_WINDOW_LEAVE:
			if (strcmp(optarg, "zero") != 0 &&
			    strcmp(optarg, "silent") != 0) {
				log_err("--window-leave: zero or silent");
				return -1;
			}
			o->window_silent = strcmp(optarg, "silent") == 0;
			break;
		case O_LISTEN:
			if (inet_pton(AF_INET, optarg, &a4) != 1) {
				log_err("--listen '%s': not an IPv4 address",
					optarg);
				return -1;
			}
			o->listen = optarg;
			break;
		case O_NO_SNAPSHOT:
			o->no_snapshot = 1;
			break;
		case O_OKX_CHECKSUM:
			o->okx_checksum = 1;
			break;
		case O_FLOOD_STREAM:
			if (strcmp(optarg, "obu") != 0 &&
			    strcmp(optarg, "update") != 0) {
				log_err("--flood-stream: obu or update");
				return -1;
			}
			o->flood_update = strcmp(optarg, "update") == 0;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			exit(0);
		case '?':
			return -1;
		default:
			if (num_arg(optarg, 0,
				    (size_t)(c - O_PORT) < CORE_ARRAY_LEN(hi) &&
						    hi[c - O_PORT] > 0
					    ? hi[c - O_PORT]
					    : 1e15,
				    &v) < 0 ||
			    set_num(o, c, v) < 0)
				return -1;
		}
	}
	if (optind != argc || (o->cert == NULL) != (o->key == NULL)) {
		log_err("%s", optind != argc ? "unexpected argument"
					     : "--tls-cert needs --tls-key");
		return -1;
	}
	if (o->depth < 2)
		o->depth = 2;
	return 0;
}

static const struct sim_venue *const venues[] = {
	&sim_venue_gateio,
	&sim_venue_mexc,
	&sim_venue_binance,
	&sim_venue_okx,
};

/* Pick the venue by --exchange and check the options it supports. */
static int venue_init(struct sim *sim)
{
	struct sim_opts *o = &sim->opt;
	size_t i;

	for (i = 0; i < CORE_ARRAY_LEN(venues); i++)
		if (strcmp(venues[i]->name, o->exchange) == 0)
			sim->venue = venues[i];
	if (sim->venue == NULL) {
		log_err("--exchange: gateio, mexc, binance or okx, not '%s'",
			o->exchange);
		return -1;
	}
	if ((o->flood_update && sim->venue != &sim_venue_gateio) ||
	    (o->replay_dir != NULL && !sim->venue->supports_replay)) {
		log_err("--flood-stream and --replay are for gateio only");
		return -1;
	}
	/* The ring holds a whole flood: its tapes are rendered from it. */
	if (o->flood > 0 &&
	    o->ring < o->flood * 5 + (size_t)o->depth * 2 + 1024)
		o->ring = o->flood * 5 + (size_t)o->depth * 2 + 1024;
	if (o->pairs == NULL)
		o->pairs = sim->venue->default_pairs;
	return 0;
}

static int pairs_init(struct sim *sim)
{
	const struct sim_opts *o = &sim->opt;
	char *list, *save = NULL, *name;
	int rc = -1;

	if (o->replay_dir != NULL)
		return replay_load(sim, o->replay_dir);
	list = strdup(o->pairs);
	if (list == NULL)
		return -1;
	for (name = strtok_r(list, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		struct sim_pair *np;

		np = realloc(sim->pairs, (sim->npairs + 1) * sizeof(*np));
		if (np == NULL)
			goto out;
		sim->pairs = np;
		if (book_pair_init(&np[sim->npairs], name, o->seed, o->depth,
				   o->rate / pow((double)(sim->npairs + 1),
						 o->rate_skew),
				   o->ring) < 0) {
			log_err("bad pair '%s'", name);
			goto out;
		}
		sim->npairs++;
		if (o->truth_dir != NULL &&
		    book_truth_open(&np[sim->npairs - 1], o->truth_dir) < 0)
			goto out;
	}
	rc = sim->npairs > 0 ? 0 : -1;
out:
	free(list);
	return rc;
}

static void evolve(struct sim *sim, double dt)
{
	size_t i;

	for (i = 0; i < sim->npairs; i++) {
		struct sim_pair *p = &sim->pairs[i];
		int64_t now_ms = sim_now_us() / 1000;
		double n;

		if (p->paused_until_us != 0 &&
		    sim_now_us() < p->paused_until_us) {
			p->accum = 0;
			continue;
		}
		if (p->rp_n == 0 && sim->opt.flood == 0) {
			p->accum += p->rate * dt;
			n = floor(p->accum);
			p->accum -= n;
			if (n > 1e6)
				n = 1e6;
			while (n-- > 0)
				book_step(p, now_ms);
		}
		book_truth_flush(p);
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct sim *sim = lws_container_of(sul, struct sim, tick);
	int64_t now = time_mono_us();
	double elapsed = (double)(now - sim->start_us) / 1e6;

	evolve(sim, (double)(now - sim->last_tick_us) / 1e6);
	sim->last_tick_us = now;
	fault_script_run(sim, elapsed);
	ws_tick(sim, sim_now_us());
	if (sim->opt.duration_s > 0 && elapsed >= sim->opt.duration_s) {
		sim_stop = 1;
		lws_cancel_service(sim->cx);
		return;
	}
	lws_sul_schedule(sim->cx, 0, &sim->tick, tick, SIM_TICK_US);
}

static void lws_log_emit(int level, const char *line)
{
	char buf[512];
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_escape(buf, sizeof(buf), line, n);
	if (level & LLL_ERR)
		log_err("lws: %s", buf);
	else
		log_warn("lws: %s", buf);
}

static int write_port(const char *path, int port)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d\n", port), rc;

	rc = fs_write_atomic(path, buf, (size_t)n, 0644);
	if (rc < 0)
		log_err_r(rc, "write '%s'", path);
	return rc;
}

static int serve(struct sim *sim)
{
	struct lws_protocols protocols[] = {
		/* 64 KiB tx chunks: lws sends pt_serv_buf_size (4 KiB)
		 * per syscall otherwise, which caps flood throughput. */
		{ "gateio", ws_callback, sizeof(struct sim_pss), 0, 0, NULL,
		  64 * 1024 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	lws_retry_bo_t idle = { 0 };
	struct lws_context_creation_info info;
	int tls = sim->opt.cert != NULL, port, n = 0;

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = sim;
	sim->cx = sim_sig_cx = lws_create_context(&info);
	if (sim->cx == NULL) {
		log_err("cannot create the lws context");
		return -1;
	}
	idle.secs_since_valid_ping = (uint16_t)sim->opt.ping_s;
	idle.secs_since_valid_hangup = (uint16_t)(sim->opt.ping_s * 3 + 5);
	memset(&info, 0, sizeof(info));
	info.vhost_name = "sim";
	info.port = sim->opt.port;
	/* Without DISABLE_IPV6 lws 4.1 binds every interface. */
	info.iface = sim->opt.listen;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 |
		       (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	info.protocols = protocols;
	info.ssl_cert_filepath = sim->opt.cert;
	info.ssl_private_key_filepath = sim->opt.key;
	info.alpn = "http/1.1";
	info.retry_and_idle_policy = sim->opt.ping_s > 0 ? &idle : NULL;
	sim->vh = lws_create_vhost(sim->cx, &info);
	if (sim->vh == NULL) {
		log_err("cannot listen on %s:%d", sim->opt.listen,
			sim->opt.port);
		return -1;
	}
	port = lws_get_vhost_listen_port(sim->vh);
	log_notice("listening on %s://%s:%d (%zu pairs)", tls ? "wss" : "ws",
		   sim->opt.listen, port, sim->npairs);
	if (sim->opt.port_file != NULL &&
	    write_port(sim->opt.port_file, port) < 0)
		return -1;
	sim->start_us = sim->last_tick_us = time_mono_us();
	lws_sul_schedule(sim->cx, 0, &sim->tick, tick, SIM_TICK_US);
	while (n >= 0 && !sim_stop)
		n = lws_service(sim->cx, 0);
	lws_sul_cancel(&sim->tick);
	return 0;
}

static void sim_release(struct sim *sim)
{
	size_t i;

	if (sim->cx != NULL)
		lws_context_destroy(sim->cx);
	sim_sig_cx = NULL;
	for (i = 0; i < sim->npairs; i++)
		book_pair_release(&sim->pairs[i]);
	free(sim->pairs);
	free(sim->script);
	free(sim->agg);
	free(sim->agg_side);
	free(sim->hash);
	sbuf_release(&sim->scratch);
}

int main(int argc, char **argv)
{
	struct sim sim;
	struct sigaction sa;
	int rc = 1;

	log_init(PROG);
	memset(&sim, 0, sizeof(sim));
	sim.opt = (struct sim_opts){ .exchange = "gateio",
				     .listen = "127.0.0.1",
				     .seed = 1,
				     .rate = 100,
				     .depth = 50,
				     .ping_s = 20,
				     .idle_close_s = 30,
				     .heartbeat_s = 60,
				     .ring = 65536,
				     .max_queue = 64u * 1024 * 1024 };
	if (parse_args(argc, argv, &sim.opt) < 0 || venue_init(&sim) < 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	sim.rng = sim.opt.seed * UINT64_C(0x2545f4914f6cdd1d) + 7;
	if (sim.opt.script != NULL &&
	    fault_script_parse(&sim, sim.opt.script) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_err("sigaction: %s", strerror(errno));
		return 1;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	if (pairs_init(&sim) == 0 &&
	    (sim.opt.flood == 0 || flood_prepare(&sim) == 0) &&
	    serve(&sim) == 0)
		rc = 0;
	sim_release(&sim);
	return rc;
}
