// The OpenID provider the single sign-on tests talk to: the real `oidc-provider`, with the
// clients and accounts a test passes in OIDC_TEST_CONFIG (JSON), on 127.0.0.1:PORT.
//
// Its sign-in page is the simplest a provider can have: a form that asks which account
// signs in (no password), and consent is granted for our first-party client without
// asking. One hook a real provider lacks, for the audience test: POST /_test/audience
// {"audience"} makes the token endpoint return ID tokens re-signed, with the provider's own
// key, for that audience ({"audience": null} stops it).
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const { issuer, port, clients, accounts } = JSON.parse(process.env.OIDC_TEST_CONFIG);

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: 'test-signing-key',
  alg: 'RS256',
  use: 'sig',
};
let forgedAudience = null;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['the test provider signs its cookies with this'] },
  findAccount: async (ctx, id) =>
    accounts[id] && { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) },
  claims: {
    openid: ['sub'],
    // xms_edov: how Entra ID says an address is verified.
    email: ['email', 'email_verified', 'xms_edov'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Every client must use PKCE, as a careful provider asks.
  pkce: { required: () => true },
  // First-party: the scopes asked for are granted without a consent page.
  loadExistingGrant: async (ctx) => {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && forgedAudience && ctx.body?.id_token) {
    const claims = decodeJwt(ctx.body.id_token);
    const header = decodeProtectedHeader(ctx.body.id_token);
    ctx.body = {
      ...ctx.body,
      id_token: await new SignJWT({ ...claims, aud: forgedAudience })
        .setProtectedHeader(header)
        .sign(await importJWK(signingKey, 'RS256')),
    };
  }
});

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function signInPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Account <input name="account" autocomplete="username"></label>
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/_test/audience' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      forgedAudience = JSON.parse(body).audience;
      res.writeHead(204).end();
      return;
    }
    const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) {
      callback(req, res);
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (!match[2]) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(signInPage(details.uid));
      return;
    }
    const account = (await readForm(req)).get('account') ?? '';
    if (!accounts[account]) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(signInPage(details.uid, `No account ${account} here.`));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account } });
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
});

server.listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
