// Runs operations of the npm `vnpay` library for the Python cross-check tests.
// stdin:  {"config": {tmnCode, secureSecret, vnpayHost}, "ops": [{"op": ..., ...}, ...]}
// stdout: {"results": [...]} in the same order; a failing op yields {"error": "..."}.
// Ops: buildPaymentUrl {data}, verifyReturnUrl {query}, verifyIpnCall {query},
//      queryDr {data} / refund {data} (live HTTP to config.vnpayHost, e.g. the simulator),
//      captureQueryDr {data} / captureRefund {data} (fetch stubbed: returns the request body
//      node would send, and node's verdict on the canned {response} if one is given).
import { VNPay } from 'vnpay';

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const input = await readStdin();
// The library defaults queryDrAndRefundHost to VNPay's public sandbox: always point both hosts
// at the configured (loopback) host.
const vnpay = new VNPay({
  hashAlgorithm: 'SHA512',
  enableLog: false,
  queryDrAndRefundHost: input.config.vnpayHost,
  ...input.config,
});

// Guard: this harness must never reach anything but loopback.
const networkFetch = globalThis.fetch;
const realFetch = async (url, init) => {
  const { hostname } = new URL(String(url));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    throw new Error(`refusing non-loopback fetch to ${hostname}`);
  }
  return networkFetch(url, init);
};
globalThis.fetch = realFetch;

async function capture(method, op) {
  let body = null;
  globalThis.fetch = async (_url, init) => {
    body = JSON.parse(init.body);
    return new Response(JSON.stringify(op.response ?? { vnp_ResponseCode: '99' }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  try {
    const result = await vnpay[method](op.data);
    return { body, isVerified: result.isVerified, isSuccess: result.isSuccess };
  } finally {
    globalThis.fetch = realFetch;
  }
}

async function run(op) {
  switch (op.op) {
    case 'buildPaymentUrl':
      return { url: vnpay.buildPaymentUrl(op.data) };
    case 'verifyReturnUrl': {
      const r = vnpay.verifyReturnUrl(op.query);
      return { isVerified: r.isVerified, isSuccess: r.isSuccess };
    }
    case 'verifyIpnCall': {
      const r = vnpay.verifyIpnCall(op.query);
      return { isVerified: r.isVerified, isSuccess: r.isSuccess };
    }
    case 'queryDr':
    case 'refund': {
      const r = await vnpay[op.op](op.data);
      return { isVerified: r.isVerified, isSuccess: r.isSuccess, responseCode: String(r.vnp_ResponseCode) };
    }
    case 'captureQueryDr':
      return capture('queryDr', op);
    case 'captureRefund':
      return capture('refund', op);
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

const results = [];
for (const op of input.ops) {
  try {
    results.push(await run(op));
  } catch (err) {
    results.push({ error: String(err && err.message ? err.message : err) });
  }
}
process.stdout.write(JSON.stringify({ results }));
