import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The API serves JSON only, so its policy allows nothing to load, frame or submit: the headers
 * that matter to an API response (OWASP's REST cheat sheet) and no more. Those that only steer how
 * a browser treats an HTML document or an old browser's quirks (Cross-Origin-Opener-Policy,
 * Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options,
 * X-Permitted-Cross-Domain-Policies, X-XSS-Protection) are left to the console (/console/), which
 * will set its own policy for its pages; each header costs every response its validation.
 */
export const API_HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** The headers helmet sets with `options`, computed once: they do not depend on the request. */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as never, recorder as never, () => undefined);
  return headers;
}

/**
 * Security headers on every response (helmet's, with the policy above). They are computed once:
 * @fastify/helmet builds helmet's middleware again for every request (about 35 µs each, measured
 * here), for headers that never change.
 */
export function registerSecurityHeaders(server: FastifyInstance, options: HelmetOptions = API_HELMET_OPTIONS): void {
  // Answers carry a child's history: no browser, proxy or shared cache may keep one. A route whose
  // answer may be kept (the console's hashed assets) says so itself, replacing this.
  const headers = { ...helmetHeaders(options), 'cache-control': 'no-store' };
  server.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
