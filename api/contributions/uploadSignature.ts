// The signature that proves who uploads a contribution file: EIP-712 typed data over the datanet and the
// file's SHA-256, so a wallet shows what it signs and a signature cannot be replayed for another file,
// datanet or chain. Upload quotas are per address, and rows count only for the address that uploaded
// them, so the address must be proven, not claimed.
import { recoverTypedDataAddress, type Address, type Hex, type TypedDataDomain } from 'viem';

export const UPLOAD_TYPES = {
  ContributionUpload: [
    { name: 'datanetId', type: 'uint256' },
    { name: 'fileSha256', type: 'bytes32' },
  ],
} as const;

export interface UploadSignatureParameters {
  chainId: number;
  /** The DatanetRegistry the contribution is for. */
  registry: Address;
  datanetId: bigint;
  /** SHA-256 of the file's bytes, 64 lowercase hex digits without 0x (as the content store names it). */
  fileSha256: string;
}

/** The typed data a contributor's wallet signs (viem `signTypedData`, or `eth_signTypedData_v4`). */
export function uploadTypedData(p: UploadSignatureParameters) {
  const domain: TypedDataDomain = { name: 'Tributary uploads', version: '1', chainId: p.chainId, verifyingContract: p.registry };
  return {
    domain,
    types: UPLOAD_TYPES,
    primaryType: 'ContributionUpload' as const,
    message: { datanetId: p.datanetId, fileSha256: `0x${p.fileSha256}` as Hex },
  };
}

/** The address that signed the upload, or undefined when the signature is malformed. */
export async function recoverUploader(p: UploadSignatureParameters & { signature: Hex }): Promise<Address | undefined> {
  try {
    return await recoverTypedDataAddress({ ...uploadTypedData(p), signature: p.signature });
  } catch {
    return undefined;
  }
}
