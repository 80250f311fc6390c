// anvil's well-known development accounts (the public "test … junk" mnemonic). Derived, not pasted, so a
// typo cannot silently fund the wrong address. Never use these outside a local devnet.
import { mnemonicToAccount } from 'viem/accounts';
import { toHex, type Hex } from 'viem';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

function derive(index: number): Hex {
  const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error(`could not derive anvil key ${index}`);
  return toHex(key);
}

/** Private keys of anvil's first ten accounts, each funded with 10,000 ETH on a fresh anvil. */
export const ANVIL_KEYS: readonly [Hex, Hex, Hex, Hex, Hex, Hex, Hex, Hex, Hex, Hex] = [
  derive(0), derive(1), derive(2), derive(3), derive(4), derive(5), derive(6), derive(7), derive(8), derive(9),
];
