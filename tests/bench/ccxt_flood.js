// ccxt pro on the simulator's flood, for tests/bench/recorder.bench.sh:
// the peer users compare booktape with. Points one ccxt.pro exchange's
// WebSocket and REST URLs at booktape-sim on 127.0.0.1 (NODE_EXTRA_CA_CERTS
// trusts the test CA), gives it the markets (no exchangeInfo request),
// calls watchOrderBook for every pair, and counts the order-book messages
// ccxt handles (its own handleOrderBook, wrapped) until the simulator
// closes the connection after the flood. Then each book is compared with
// the simulator's <PAIR>.final.csv.
//
// usage: node ccxt_flood.js CCXT_PREFIX EXCHANGE PORT TRUTH_DIR FRAMES PAIR...
//   EXCHANGE gate, mexc, binance or okx; PAIR the exchange's own ids;
//   FRAMES the order-book messages the flood sends in all.
// Prints bench_discard's line plus "books ok|bad" (CPU from subscribing
// to the end, peak RSS of the process).
'use strict';

const fs = require('fs');
const path = require('path');

const [prefix, exName, port, truthDir, framesArg, ...pairs] =
	process.argv.slice(2);
const ccxt = require(require.resolve('ccxt', { paths: [prefix] }));
const base = `127.0.0.1:${port}`;

// The pair's base and quote from its exchange id.
function split(id) {
	const m = id.match(/^(.+?)[-_]?(USDT|USDC|BTC|ETH)$/);
	return m ? [m[1], m[2]] : [id, 'X'];
}

function market(id) {
	const [b, q] = split(id);
	return {
		id, symbol: `${b}/${q}`, base: b, quote: q, baseId: b, quoteId: q,
		lowercaseId: id.toLowerCase(), type: 'spot', spot: true,
		margin: false, swap: false, future: false, option: false,
		contract: false, active: true, precision: { amount: 1e-8, price: 1e-8 },
		limits: { amount: {}, price: {}, cost: {} }, info: {},
	};
}

// Where each exchange's streams and REST snapshots live, and the limit
// that picks the stream the recorder records (Gate.io obu 400, OKX books).
const setups = {
	gate: (ex) => { ex.urls.api.spot = `wss://${base}/ws/v4/`; return 400; },
	mexc: (ex) => {
		ex.urls.api.ws.spot = `wss://${base}/ws`;
		ex.urls.api.spot.public = `https://${base}`;
		return undefined;
	},
	binance: (ex) => {
		ex.urls.api.ws.spot = `wss://${base}/ws`;
		ex.urls.api.public = `https://${base}/api/v3`;
		return undefined;
	},
	okx: (ex) => { ex.urls.api.ws = `wss://${base}/ws/v5`; return 400; },
};

function nowUs() {
	return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function finalBook(id) {
	const want = { bids: [], asks: [] };
	const lines = fs.readFileSync(path.join(truthDir, `${id}.final.csv`),
		'utf8').trim().split('\n').slice(1);
	for (const l of lines) {
		const [side, px, amt] = l.split(',');
		want[side === 'bid' ? 'bids' : 'asks'].push([Number(px), Number(amt)]);
	}
	want.bids.sort((a, b) => b[0] - a[0]);
	want.asks.sort((a, b) => a[0] - b[0]);
	return want;
}

function sameSide(got, want) {
	return got.length === want.length &&
		got.every((l, i) => l[0] === want[i][0] && l[1] === want[i][1]);
}

async function main() {
	const ex = new ccxt.pro[exName]({ enableRateLimit: false });
	const limit = setups[exName](ex);
	ex.setMarkets(pairs.map(market));
	const want = Number(framesArg);
	let frames = 0, first = 0, last = 0;
	const orig = ex.handleOrderBook;
	ex.handleOrderBook = function (client, message) {
		last = nowUs();
		if (frames++ === 0)
			first = last;
		return orig.call(this, client, message);
	};
	const cpu0 = process.cpuUsage();
	let finish;
	const done = new Promise((resolve) => { finish = resolve; });
	const timer = setTimeout(() => finish('timeout'), 300000);
	let running = pairs.length;
	const errors = [];
	for (const id of pairs) {
		(async () => {
			const sym = market(id).symbol;
			for (;;) {
				try {
					await ex.watchOrderBook(sym, limit);
				} catch (e) {
					// The flood's end: the simulator closes (1000).
					errors.push(`ccxt ${exName} ${sym}: ${e.message}`);
					break;
				}
				if (frames >= want)
					break;
			}
			if (--running === 0)
				finish('end');
		})();
	}
	const why = await done;
	clearTimeout(timer);
	const cpu = process.cpuUsage(cpu0);
	let ok = frames >= want;
	for (const id of pairs) {
		const ob = ex.orderbooks[market(id).symbol];
		const w = finalBook(id);
		if (ob === undefined || !sameSide(Array.from(ob.bids), w.bids) ||
		    !sameSide(Array.from(ob.asks), w.asks)) {
			console.error(`ccxt ${exName} ${id}: book differs from the truth`);
			ok = false;
		}
	}
	console.log(`frames ${frames} bytes 0 first_us ${first} last_us ${last} ` +
		`cpu_s ${((cpu.user + cpu.system) / 1e6).toFixed(3)} ` +
		`rss_kb ${process.resourceUsage().maxRSS} books ${ok ? 'ok' : 'bad'}`);
	if (frames < want)
		errors.forEach((e) => console.error(e));
	if (why === 'timeout')
		console.error(`ccxt ${exName}: timed out after ${frames} messages`);
	await ex.close().catch(() => {});
	process.exit(ok ? 0 : 1);
}

main().catch((e) => {
	console.error(`ccxt ${exName}: ${e.stack || e}`);
	process.exit(1);
});
