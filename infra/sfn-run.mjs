#!/usr/bin/env node
// sfn-run.mjs — run one Amazon States Language definition offline with aws-local-stepfunctions.
//
// stdin : one JSON request
//   {
//     "definitionPath": "/abs/or/relative/path.asl.json",   (required)
//     "substitutions": {"NAME": "value"},      replaces "${NAME}" in the definition text (like SAM)
//     "input": <any JSON>,                     execution input
//     "waitTimeOverrides": {"WaitState": ms},  shorten Wait states
//     "retryIntervalOverrides": {"State": ms | [ms, ...]},  shorten Retry back-off
//     "taskTokenStates": ["StateName"],        extra states to treat as .waitForTaskToken
//     "context": {...},                        merged into the context object ($$)
//     "executionName": "name",                 $$.Execution.Name (default: random)
//     "nativeLambda": false                    true: plain Lambda-ARN Tasks use the library's own
//                                              AWS SDK client instead of this script's invoker
//   }
// stdout: JSON lines
//   {"controlPort":N}                                    first line, always
//   {"event":"enter"|"exit"|"fail"|"retry"|"catch","state":..,"type":..,...}   one per transition
//   {"event":"task_token","state":..,"token":..,"payload":..,"timeoutSeconds":..}
//   {"result":..,"status":"SUCCEEDED"|"FAILED"|"ABORTED"|"TIMED_OUT","error":..,"cause":..}  last line
// exit  : 0 when the execution finished (any status), 2 on a harness error (message on stderr).
//
// Control server on 127.0.0.1:<controlPort> (JSON bodies):
//   POST /send-task-success {taskToken, output}       output is the JSON value the Task returns
//   POST /send-task-failure {taskToken, error, cause}
//   POST /abort                                        aborts the execution (status ABORTED)
// Errors answer HTTP 400 {"__type":"TaskDoesNotExist"|"TaskTimedOut"|"InvalidToken"|...,"message":..}.
//
// Lambda: Tasks whose Resource is a Lambda function ARN, arn:aws:states:::lambda:invoke or
// arn:aws:states:::lambda:invoke.waitForTaskToken call the Lambda Invoke API at
// $AWS_ENDPOINT_URL_LAMBDA (POST /2015-03-31/functions/{FunctionName}/invocations).
// A response with X-Amz-Function-Error fails the state with Error = body.errorType and
// Cause = the raw body, as on AWS, so Retry/Catch on custom error names work.
import './polyfill.cjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';

// Node's setTimeout overflows above 2^31-1 ms (and then fires after 1 ms). AWS's default Task
// timeout (99999999 s) is therefore clamped to this many seconds (~24.8 days).
const MAX_TIMEOUT_SECONDS = Math.floor(2147483647 / 1000);
const WRAP_PARAMS = '__sfnrun_params';
const WRAP_TIMEOUT = '__sfnrun_timeout';
const TOKEN_SUFFIX = '.waitForTaskToken';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$/;

class HarnessError extends Error {}

// An error the interpreter can match in Retry/Catch: its name is the ASL error name and its
// message is the Cause.
class StatesError extends Error {
  constructor(name, cause) {
    super(cause ?? '');
    this.name = name;
  }
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function substitute(text, subs) {
  const missing = new Set();
  const out = text.replace(/\$\{([^}]+)\}/g, (m, name) => {
    if (Object.prototype.hasOwnProperty.call(subs, name)) return String(subs[name]);
    missing.add(name);
    return m;
  });
  if (missing.size > 0) {
    throw new HarnessError(`definition has placeholders without a substitution: ${[...missing].join(', ')}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Definition rewriting: decide which Task states this script handles and fix TimeoutSecondsPath.

function* walkStates(def) {
  for (const [name, state] of Object.entries(def.States ?? {})) {
    yield [name, state];
    if (state.Type === 'Parallel') {
      for (const branch of state.Branches ?? []) yield* walkStates(branch);
    }
    if (state.Type === 'Map') {
      if (state.Iterator) yield* walkStates(state.Iterator);
      if (state.ItemProcessor) yield* walkStates(state.ItemProcessor);
    }
  }
}

function classify(name, state, req) {
  const res = String(state.Resource ?? '');
  if (res.endsWith(TOKEN_SUFFIX) || (req.taskTokenStates ?? []).includes(name)) return 'token';
  if (res === LAMBDA_INVOKE) return 'invoke';
  if (LAMBDA_ARN.test(res) && !req.nativeLambda) return 'lambda';
  return 'native';
}

// Rewrites the handled Task states in place:
//  * Parameters are wrapped as {"__sfnrun_params": <original>} (or {"__sfnrun_params.$": "$"}),
//    and a TimeoutSecondsPath is evaluated inside that wrapper. aws-local-stepfunctions resolves
//    TimeoutSecondsPath against the input *after* Parameters, while AWS resolves it against the
//    state input; the wrapper makes the library see the value AWS would.
//  * A Task without TimeoutSeconds(Path) gets AWS's default (clamped), not the library's 60 s.
function rewrite(def, req) {
  const handled = new Map(); // state name -> {kind, resource, state}
  for (const [name, state] of walkStates(def)) {
    if (state.Type !== 'Task') continue;
    const kind = classify(name, state, req);
    if (kind === 'native') continue;
    if (handled.has(name)) {
      throw new HarnessError(`state name ${JSON.stringify(name)} is used twice; ASL state names must be unique`);
    }
    const original = { ...state };
    const wrapper = {};
    if ('Parameters' in state) wrapper[WRAP_PARAMS] = state.Parameters;
    else wrapper[`${WRAP_PARAMS}.$`] = '$';
    if (state.TimeoutSecondsPath !== undefined) {
      wrapper[`${WRAP_TIMEOUT}.$`] = state.TimeoutSecondsPath;
      state.TimeoutSecondsPath = `$.${WRAP_TIMEOUT}`;
    } else if (state.TimeoutSeconds === undefined) {
      state.TimeoutSeconds = MAX_TIMEOUT_SECONDS;
    } else {
      wrapper[WRAP_TIMEOUT] = state.TimeoutSeconds;
    }
    state.Parameters = wrapper;
    handled.set(name, { kind, resource: String(state.Resource ?? ''), original });
  }
  return handled;
}

// Override maps keyed by a state name that does not exist (a typo) would be ignored silently by
// the library, e.g. leaving an hour-long Wait in place: reject them.
function checkOverrideNames(def, req) {
  const types = new Map();
  for (const [name, state] of walkStates(def)) types.set(name, state.Type);
  const check = (field, names, type) => {
    for (const name of names) {
      if (types.get(name) !== type) {
        throw new HarnessError(`${field}: ${JSON.stringify(name)} is not a ${type} state of the definition`);
      }
    }
  };
  check('waitTimeOverrides', Object.keys(req.waitTimeOverrides ?? {}), 'Wait');
  check('taskTokenStates', req.taskTokenStates ?? [], 'Task');
  for (const name of Object.keys(req.retryIntervalOverrides ?? {})) {
    if (!types.has(name)) throw new HarnessError(`retryIntervalOverrides: no state named ${JSON.stringify(name)}`);
  }
}

function unwrap(input) {
  if (input === null || typeof input !== 'object' || !(WRAP_PARAMS in input)) {
    throw new HarnessError('internal: Task input was not wrapped');
  }
  const timeout = input[WRAP_TIMEOUT];
  return { params: input[WRAP_PARAMS], timeoutSeconds: typeof timeout === 'number' ? timeout : undefined };
}

// ---------------------------------------------------------------------------------------------
// Lambda Invoke API client (plain fetch, no AWS SDK).

function lambdaEndpoint() {
  const base = process.env.AWS_ENDPOINT_URL_LAMBDA || process.env.AWS_ENDPOINT_URL;
  if (!base) {
    throw new StatesError('Lambda.SdkClientException', 'AWS_ENDPOINT_URL_LAMBDA is not set');
  }
  return base.replace(/\/+$/, '');
}

async function invokeLambda(functionName, payload, invocationType = 'RequestResponse') {
  const url = `${lambdaEndpoint()}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  let res;
  let text;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Amz-Invocation-Type': invocationType },
      body: JSON.stringify(payload === undefined ? null : payload),
    });
    text = await res.text();
  } catch (err) {
    throw new StatesError('Lambda.SdkClientException', `invoke ${functionName}: ${err.message}`);
  }
  if (res.status >= 300) {
    let type = 'ServiceException';
    try {
      const body = JSON.parse(text);
      type = String(body.__type ?? body.Type ?? type).split('#').pop();
    } catch {
      if (res.status === 404) type = 'ResourceNotFoundException';
    }
    throw new StatesError(`Lambda.${type}`, text || `HTTP ${res.status}`);
  }
  const functionError = res.headers.get('x-amz-function-error');
  if (functionError) {
    let errorType = 'Lambda.Unknown';
    try {
      const body = JSON.parse(text);
      if (body && typeof body.errorType === 'string' && body.errorType !== '') errorType = body.errorType;
    } catch {
      // keep Lambda.Unknown
    }
    throw new StatesError(errorType, text);
  }
  let result = null;
  if (text !== '') {
    try {
      result = JSON.parse(text);
    } catch {
      throw new StatesError('States.Runtime', `function ${functionName} returned non-JSON output: ${text.slice(0, 200)}`);
    }
  }
  return { status: res.status, payload: result, requestId: res.headers.get('x-amz-request-id') ?? crypto.randomUUID() };
}

// ---------------------------------------------------------------------------------------------
// Task tokens.

const issuedTokens = new Set(); // produced by $$.Task.Token reads, not yet claimed by a state
const pendingTokens = new Map(); // token -> {state, resolve, reject, timer}
const closedTokens = new Set(); // completed or timed out

function newToken() {
  return `sfnrun-${crypto.randomBytes(18).toString('base64url')}`;
}

// $$.Task.Token: a getter so that every Parameters evaluation gets a fresh token.
function taskContext() {
  const task = {};
  Object.defineProperty(task, 'Token', {
    enumerable: true,
    get() {
      const t = newToken();
      issuedTokens.add(t);
      return t;
    },
  });
  return task;
}

function findIssuedToken(value) {
  if (typeof value === 'string') return issuedTokens.has(value) ? value : undefined;
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const found = findIssuedToken(v);
      if (found) return found;
    }
  }
  return undefined;
}

function completeToken(token, fn) {
  const entry = pendingTokens.get(token);
  if (!entry) {
    if (closedTokens.has(token)) return { status: 400, body: { __type: 'TaskTimedOut', message: 'Task Timed Out' } };
    if (typeof token !== 'string' || token === '') return { status: 400, body: { __type: 'InvalidToken', message: 'Invalid Token' } };
    return { status: 400, body: { __type: 'TaskDoesNotExist', message: 'Task does not exist anymore' } };
  }
  pendingTokens.delete(token);
  closedTokens.add(token);
  clearTimeout(entry.timer);
  fn(entry);
  return { status: 200, body: {} };
}

// ---------------------------------------------------------------------------------------------
// Task handlers.

const nextTick = () => new Promise((r) => setImmediate(r)); // lets the "enter" event print first

function makeLambdaHandler(name, info) {
  return async (input) => {
    const { params } = unwrap(input);
    const { payload } = await invokeLambda(info.resource, params);
    return payload;
  };
}

function makeInvokeHandler(name) {
  return async (input) => {
    const { params } = unwrap(input);
    if (!params || typeof params !== 'object' || typeof params.FunctionName !== 'string') {
      throw new StatesError('States.Runtime', `state ${name}: lambda:invoke needs Parameters.FunctionName`);
    }
    const out = await invokeLambda(params.FunctionName, params.Payload ?? {}, params.InvocationType);
    return {
      ExecutedVersion: '$LATEST',
      Payload: out.payload,
      SdkHttpMetadata: { HttpStatusCode: out.status },
      SdkResponseMetadata: { RequestId: out.requestId },
      StatusCode: out.status,
    };
  };
}

function makeTokenHandler(name, info) {
  return async (input) => {
    await nextTick();
    const { params, timeoutSeconds } = unwrap(input);
    const token = findIssuedToken(params) ?? newToken();
    issuedTokens.delete(token);
    const { promise, resolve, reject } = Promise.withResolvers();
    const entry = { state: name, resolve, reject, timer: undefined };
    pendingTokens.set(token, entry);
    if (timeoutSeconds !== undefined) {
      // The interpreter raises States.Timeout itself; this only closes the token at that moment.
      entry.timer = setTimeout(() => {
        if (pendingTokens.get(token) === entry) {
          pendingTokens.delete(token);
          closedTokens.add(token);
        }
      }, Math.min(timeoutSeconds, MAX_TIMEOUT_SECONDS) * 1000);
    }
    emit({ event: 'task_token', state: name, token, payload: params ?? null, timeoutSeconds: timeoutSeconds ?? null, ts: Date.now() });

    // Start the work the way AWS would: lambda:invoke sends Parameters.Payload to
    // Parameters.FunctionName; a plain Lambda ARN Resource gets the whole Parameters.
    let fn;
    let payload;
    if (info.resource.startsWith(LAMBDA_INVOKE) && params && typeof params === 'object') {
      fn = params.FunctionName;
      payload = params.Payload ?? {};
    } else if (LAMBDA_ARN.test(info.resource.replace(/\.waitForTaskToken$/, ''))) {
      fn = info.resource.replace(/\.waitForTaskToken$/, '');
      payload = params;
    } else if (params && typeof params === 'object' && typeof params.FunctionName === 'string') {
      fn = params.FunctionName;
      payload = 'Payload' in params ? params.Payload : params;
    }
    if (typeof fn === 'string' && fn !== '') {
      invokeLambda(fn, payload, 'RequestResponse').catch((err) => {
        // A failed invoke fails the Task (as on AWS), unless the token was already completed.
        if (pendingTokens.get(token) === entry) {
          pendingTokens.delete(token);
          closedTokens.add(token);
          clearTimeout(entry.timer);
          reject(err);
        }
      });
    }
    return promise;
  };
}

// ---------------------------------------------------------------------------------------------

function readJSONBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function startControlServer(execution) {
  const server = http.createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return reply(405, { __type: 'MethodNotAllowed', message: req.method });
    let body;
    try {
      body = await readJSONBody(req);
    } catch (err) {
      return reply(400, { __type: 'InvalidRequest', message: `bad JSON: ${err.message}` });
    }
    switch (req.url) {
      case '/send-task-success': {
        const out = completeToken(body.taskToken, (e) => e.resolve(body.output === undefined ? null : body.output));
        return reply(out.status, out.body);
      }
      case '/send-task-failure': {
        const out = completeToken(body.taskToken, (e) => e.reject(new StatesError(String(body.error ?? ''), body.cause ?? '')));
        return reply(out.status, out.body);
      }
      case '/abort':
        execution.abort?.();
        return reply(200, {});
      default:
        return reply(404, { __type: 'NotFound', message: req.url });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function stringifyCause(cause) {
  if (cause === undefined || cause === null) return null;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

function toEvent(ev) {
  const base = { state: ev.state?.name, type: ev.state?.type, ts: ev.timestamp };
  if (ev.index !== undefined) base.index = ev.index;
  switch (ev.type) {
    case 'StateEntered':
      return { event: 'enter', ...base, input: ev.state.input ?? null };
    case 'StateExited':
      return { event: 'exit', ...base, output: ev.state.output ?? null };
    case 'StateFailed':
      return { event: 'fail', ...base, error: ev.Error, cause: stringifyCause(ev.Cause) };
    case 'StateRetried':
      return { event: 'retry', ...base, attempt: ev.retry?.attempt };
    case 'StateCaught':
      return { event: 'catch', ...base, next: ev.catch?.catcher?.Next };
    default:
      return undefined;
  }
}

async function main() {
  const raw = await readStdin();
  let req;
  try {
    req = JSON.parse(raw);
  } catch (err) {
    throw new HarnessError(`request on stdin is not JSON: ${err.message}`);
  }
  if (!req || typeof req.definitionPath !== 'string') throw new HarnessError('request.definitionPath is required');
  let text;
  try {
    text = fs.readFileSync(path.resolve(req.definitionPath), 'utf8');
  } catch (err) {
    throw new HarnessError(`read definition: ${err.message}`);
  }
  text = substitute(text, req.substitutions ?? {});
  let def;
  try {
    def = JSON.parse(text);
  } catch (err) {
    throw new HarnessError(`definition is not JSON after substitution: ${err.message}`);
  }

  checkOverrideNames(def, req);
  const handled = rewrite(def, req);
  const taskResourceLocalHandlers = {};
  for (const [name, info] of handled) {
    if (info.kind === 'token') taskResourceLocalHandlers[name] = makeTokenHandler(name, info);
    else if (info.kind === 'invoke') taskResourceLocalHandlers[name] = makeInvokeHandler(name, info);
    else taskResourceLocalHandlers[name] = makeLambdaHandler(name, info);
  }

  let sm;
  try {
    sm = new StateMachine(def);
  } catch (err) {
    throw new HarnessError(err.message);
  }

  const executionName = req.executionName ?? crypto.randomUUID();
  const smName = req.stateMachineName ?? path.basename(req.definitionPath).replace(/\..*$/, '');
  const ctx = req.context ?? {};
  const context = {
    ...ctx,
    Execution: {
      Id: `arn:aws:states:us-east-1:123456789012:execution:${smName}:${executionName}`,
      Name: executionName,
      RoleArn: 'arn:aws:iam::123456789012:role/sfn-run',
      ...(ctx.Execution ?? {}),
    },
    StateMachine: { Id: `arn:aws:states:us-east-1:123456789012:stateMachine:${smName}`, Name: smName, ...(ctx.StateMachine ?? {}) },
    Task: taskContext(),
  };

  const execution = {};
  const server = await startControlServer(execution);
  emit({ controlPort: server.address().port });

  const run = sm.run(req.input ?? {}, {
    overrides: {
      taskResourceLocalHandlers,
      waitTimeOverrides: req.waitTimeOverrides ?? {},
      retryIntervalOverrides: req.retryIntervalOverrides ?? {},
    },
    context,
  });
  execution.abort = run.abort;

  let failed; // {error, cause} from the ExecutionFailed event
  let terminal;
  const consume = (async () => {
    for await (const ev of run.eventLogs) {
      const out = toEvent(ev);
      if (out) emit(out);
      if (ev.type === 'ExecutionFailed') failed = { error: ev.Error, cause: stringifyCause(ev.Cause) };
      if (ev.type === 'ExecutionAborted') terminal = 'ABORTED';
      if (ev.type === 'ExecutionTimeout') terminal = 'TIMED_OUT';
    }
  })();

  let final;
  try {
    const result = await run.result;
    final = { result: result ?? null, status: 'SUCCEEDED', error: null, cause: null };
  } catch (err) {
    await consume;
    if (terminal === 'ABORTED' || err?.name === 'ExecutionAbortedError') {
      final = { result: null, status: 'ABORTED', error: null, cause: null };
    } else if (terminal === 'TIMED_OUT' || err?.name === 'ExecutionTimeoutError') {
      final = { result: null, status: 'TIMED_OUT', error: 'States.Timeout', cause: null };
    } else {
      const inner = err?.cause instanceof Error ? err.cause : err;
      final = {
        result: null,
        status: 'FAILED',
        error: failed?.error ?? inner?.name ?? 'Error',
        cause: failed?.cause ?? stringifyCause(inner?.message),
      };
    }
  }
  await consume;
  for (const entry of pendingTokens.values()) clearTimeout(entry.timer);
  emit(final);
  server.close();
  process.stdout.write('', () => process.exit(0));
}

main().catch((err) => {
  const msg = err instanceof HarnessError ? err.message : err?.stack ?? String(err);
  process.stderr.write(`sfn-run: ${msg}\n`);
  process.exit(2);
});
