/**
 * Redis connections for the queue, from the `--queue` URL: `redis://HOST:PORT` or
 * `rediss://[:PASSWORD@]HOST:PORT` (TLS). A coordinator or worker that cannot reach Redis,
 * or is refused, fails at start with QUEUE_UNREACHABLE instead of retrying forever.
 */
import { Redis } from 'ioredis';
import { AuditError } from '../../engine/errors';

/** The URL with any password replaced, for logs, the store and the app. */
export function redactQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable queue URL)';
  }
}

function parseQueueUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw badUrl(url);
  return u;
}

function badUrl(url: string): AuditError {
  return new AuditError(
    'INVALID_ARGUMENT',
    `--queue must be a redis:// or rediss:// URL, not "${redactQueueUrl(url)}"`,
    {
      hint: 'For example --queue redis://127.0.0.1:6379, or rediss://:PASSWORD@host:6380 for TLS with a password.',
    },
  );
}

/**
 * A connection BullMQ can use (it needs maxRetriesPerRequest: null for its blocking calls),
 * checked with a PING before it is returned.
 */
export async function connectQueue(url: string): Promise<Redis> {
  parseQueueUrl(url);
  let connected = false;
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    // Fail the first connection fast (QUEUE_UNREACHABLE); once up, reconnect for as long as
    // it takes: jobs are safe in Redis while it restarts.
    retryStrategy: (times) => (!connected && times > 20 ? null : Math.min(times * 200, 5000)),
  });
  // Errors after the first connection are reconnects; ioredis logs nothing by itself.
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    connected = true;
  } catch (e) {
    redis.disconnect();
    throw new AuditError(
      'QUEUE_UNREACHABLE',
      `Cannot reach the queue at ${redactQueueUrl(url)}: ${(e as Error).message}`,
      {
        hint: 'Start Redis there (Debian: apt install redis-server), check host, port and password, or leave --queue out to run on this machine only.',
        cause: e,
      },
    );
  }
  return redis;
}
