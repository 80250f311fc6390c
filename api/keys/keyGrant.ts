// `tributary keys create --payer <address>`: an API key spends the payer's escrow, so only the payer may
// create one. The payer signs EIP-712 typed data naming itself, a label and the time of signing, bound
// to the chain and the deployment's InferenceRouter; the server refuses a grant older than
// GRANT_MAX_AGE_SECONDS, and each grant creates one key only (its digest is stored with the key), so a
// copied signature cannot mint a second key.
import { hashTypedData, recoverTypedDataAddress, type Address, type Hex, type TypedDataDomain } from 'viem';

export const KEY_GRANT_TYPES = {
  ApiKeyGrant: [
    { name: 'payer', type: 'address' },
    { name: 'label', type: 'string' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const;

export const GRANT_MAX_AGE_SECONDS = 600;

export interface KeyGrant {
  payer: Address;
  label: string;
  /** Unix seconds when the payer signed. */
  issuedAt: bigint;
}

export interface KeyGrantDomain {
  chainId: number;
  /** The deployment's InferenceRouter: the contract whose escrow the key spends. */
  router: Address;
}

export function keyGrantTypedData(d: KeyGrantDomain, g: KeyGrant) {
  const domain: TypedDataDomain = { name: 'Tributary API keys', version: '1', chainId: d.chainId, verifyingContract: d.router };
  return { domain, types: KEY_GRANT_TYPES, primaryType: 'ApiKeyGrant' as const, message: g };
}

export type GrantCheck =
  | { ok: true; digest: Hex }
  | { ok: false; status: 400 | 401; reason: string };

/** Checks a signed grant: the payer signed it, and it is recent (and not from the future). */
export async function checkKeyGrant(d: KeyGrantDomain, g: KeyGrant, signature: Hex, nowSeconds = Math.floor(Date.now() / 1000)): Promise<GrantCheck> {
  const age = nowSeconds - Number(g.issuedAt);
  if (age > GRANT_MAX_AGE_SECONDS) return { ok: false, status: 400, reason: `the grant was signed ${age} s ago; sign a new one (at most ${GRANT_MAX_AGE_SECONDS} s old)` };
  if (age < -60) return { ok: false, status: 400, reason: 'the grant is dated in the future; check the clock' };
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({ ...keyGrantTypedData(d, g), signature });
  } catch {
    return { ok: false, status: 401, reason: 'the signature is malformed' };
  }
  if (signer.toLowerCase() !== g.payer.toLowerCase()) return { ok: false, status: 401, reason: `the grant is signed by ${signer}, not by the payer ${g.payer}` };
  return { ok: true, digest: hashTypedData(keyGrantTypedData(d, g)) };
}
