// A real OpenID Provider (the OpenID-certified `oidc-provider`) standing in for the province's
// unified identity platform, for the sign-in tests and `make run`. Test data only; loopback only.
//
//   node provider.mjs --port PORT --service-url URL [--export-key FILE]
//
// - Issuer: http://127.0.0.1:PORT. Prints "oidc-provider listening on <issuer>" when ready.
// - Accounts (sign in with the account id as login, any password): entity-1 (a legal person
//   with its credit code), officer-1 (县税务局), staff-1 (counter staff), admin-1.
// - Clients: `credit-report` (the service: code flow with PKCE, redirect URI
//   <service-url>/auth/callback, logout back to <service-url>/), and client-credentials clients
//   for machines: `tender-platform` (no role here), `tax-system` (department 县税务局),
//   `counter-system` (staff), `admin-tool` (admin), `entity-app` (an entity).
//   Every client secret is "<client id>-secret".
// - API access tokens are JWTs (RFC 9068) for the audience urn:credit-report; ID tokens and
//   access tokens carry role, uscc, unit and name. Signing key: a fresh ES256 key at every start
//   (so a restart on the same port is a key rotation); --export-key writes it (kid, PKCS#8 DER
//   base64) for tests that forge tokens with the provider's own key.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'service-url': { type: 'string' },
    'export-key': { type: 'string' },
  },
});
if (!args.port || !args['service-url']) {
  console.error('usage: node provider.mjs --port PORT --service-url URL [--export-key FILE]');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${args.port}`;
const serviceUrl = args['service-url'].replace(/\/$/, '');
const AUDIENCE = 'urn:credit-report';

const accounts = {
  'entity-1': { role: 'entity', uscc: '91620321MA72BR0W1E', name: '浏览器申请测试有限公司' },
  'officer-1': { role: 'department', unit: '县税务局', name: '税务局经办人' },
  'staff-1': { role: 'staff', unit: '县政务服务中心', name: '窗口帮办人员' },
  'admin-1': { role: 'admin', name: '系统管理员' },
};
const machines = {
  'tender-platform': {},
  'tax-system': { role: 'department', unit: '县税务局' },
  'counter-system': { role: 'staff' },
  'admin-tool': { role: 'admin' },
  'entity-app': { role: 'entity', uscc: '91620321MA72BR0W1E', name: '浏览器申请测试有限公司' },
};

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kid = randomUUID();
if (args['export-key']) {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  writeFileSync(args['export-key'], JSON.stringify({ kid, alg: 'ES256', pkcs8_der_base64: der }));
}

const secret = (id) => `${id}-secret`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'credit-report',
      client_secret: secret('credit-report'),
      redirect_uris: [`${serviceUrl}/auth/callback`],
      post_logout_redirect_uris: [`${serviceUrl}/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
    ...Object.keys(machines).map((id) => ({
      client_id: id,
      client_secret: secret(id),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'ES256',
    })),
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] },
  findAccount: async (_ctx, id) =>
    accounts[id] && { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) },
  claims: { openid: ['sub'], profile: ['name', 'role', 'uscc', 'unit'] },
  scopes: ['openid', 'profile', 'api'],
  // The ID token carries the profile claims the service signs in with.
  conformIdTokenClaims: false,
  // The service is the platform's own client: no consent screen, as the real platform does.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile');
    grant.addOIDCClaims(['name', 'role', 'uscc', 'unit']);
    await grant.save();
    return grant;
  },
  extraTokenClaims: async (_ctx, token) =>
    token.accountId ? accounts[token.accountId] : machines[token.clientId],
  pkce: { required: () => true },
  ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  cookies: { keys: [randomUUID()] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: AUDIENCE,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

const server = provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
server.on('error', (error) => {
  console.error(`oidc-provider: ${error.message}`);
  process.exit(1);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
