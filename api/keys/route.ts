// POST /keys: creates an API key for a payer from the payer's signed grant (keyGrant.ts). Answers the
// secret once (201); 400 for a malformed or stale grant, 401 for a signature that is not the payer's,
// 409 for a grant already used.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAddress, isHex, type Hex } from 'viem';
import { createApiKey, GrantAlreadyUsedError, type OperationalDb } from '../../schema/index.ts';
import { checkKeyGrant, type KeyGrantDomain } from './keyGrant.ts';

export interface CreatedKeyJson {
  id: string;
  key: string;
  prefix: string;
  payer: Hex;
  label: string;
}

export function keysRoute(ctx: { db: OperationalDb; domain: KeyGrantDomain }) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== '/keys') return false;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 405 ? { allow: 'POST' } : {}) });
      res.end(JSON.stringify(body));
      return true;
    };
    if (req.method !== 'POST') return send(405, { error: 'use POST /keys with {payer, label, issuedAt, signature}' });
    let raw: Record<string, unknown>;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > 16_384) return send(413, { error: 'the body is larger than 16 KiB' });
        chunks.push(c as Buffer);
      }
      raw = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(400, { error: 'the body is not valid JSON' });
    }
    const { payer, label = '', issuedAt, signature } = raw;
    if (typeof payer !== 'string' || !isAddress(payer)) return send(400, { error: 'payer: an 0x address' });
    if (typeof label !== 'string' || label.length > 200) return send(400, { error: 'label: a string of at most 200 characters' });
    if ((typeof issuedAt !== 'number' && typeof issuedAt !== 'string') || !/^\d{1,12}$/.test(String(issuedAt))) return send(400, { error: 'issuedAt: unix seconds' });
    if (typeof signature !== 'string' || !isHex(signature)) return send(400, { error: 'signature: 0x-hex EIP-712 signature of the ApiKeyGrant' });
    const grant = { payer, label, issuedAt: BigInt(issuedAt) };
    const check = await checkKeyGrant(ctx.domain, grant, signature);
    if (!check.ok) return send(check.status, { error: check.reason });
    try {
      const { secret, key } = await createApiKey(ctx.db, { role: 'public', payerAddress: payer, label, grantDigest: check.digest });
      const body: CreatedKeyJson = { id: key.id, key: secret, prefix: key.prefix, payer: key.payerAddress!, label: key.label };
      return send(201, body);
    } catch (e) {
      if (e instanceof GrantAlreadyUsedError) return send(409, { error: 'this grant was already used to create a key; sign a new one' });
      throw e;
    }
  };
}
