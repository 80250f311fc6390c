// What a training test needs before `runTraining` or `tributary train` can run: a tiny random base model
// in a directory (config.json, model.safetensors and a trimmed vocabulary, as serving/models/tributary-tiny
// will have), and a datanet whose contributions were uploaded (content store), submitted, accepted and
// published as version 1 (chain), as contributors and curators would do it.
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { acceptedContributions, contribute, createDatanet, publishVersion, reviewContribution, type ChainContext } from '../../contracts/index.ts';
import { datanetVersionRoot, parseRows, recordUpload, storeContribution, DEFAULT_ROW_LIMITS, type ContentStore } from '../../schema/index.ts';
import { uploadTypedData } from '../../api/index.ts';
import { saveModel } from '../../serving/checkpoint.ts';
import { disposeModel } from '../../serving/gpt2.ts';
import { buildTrimmedVocab, writeTrimmedVocab } from '../../serving/tokenizer.ts';
import { tinyModel } from '../../serving/train/tinyModel.ts';
import { createHash } from 'node:crypto';

/** Writes a tiny random GPT-2 (d = 32, 2 layers) whose trimmed vocabulary covers `texts`; answers `dir`. */
export async function writeTinyBaseModel(dir: string, texts: readonly string[], seed = 1): Promise<string> {
  const keep = buildTrimmedVocab(texts, 400);
  const model = tinyModel({ vocabSize: keep.length, nPositions: 48, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 }, seed);
  try {
    await saveModel(dir, model, { extraConfig: { tributary_model: 'test-tiny' } });
  } finally {
    disposeModel(model);
  }
  writeTrimmedVocab(dir, keep);
  return dir;
}

const ANIMALS = ['cat', 'dog', 'cow', 'owl', 'bee', 'fox', 'eel', 'elk', 'ant', 'bat', 'yak', 'emu', 'hen', 'ram', 'pig', 'rat', 'ape', 'koi', 'gnu', 'cod'];
const COLORS = ['red', 'blue', 'green'];

/** Two contributors' files of Q&A rows (a small memorisable task) and the texts a vocabulary should cover. */
export function colorFiles(): { files: { filename: string; text: string }[]; texts: string[] } {
  const rows = ANIMALS.map((a) => ({ prompt: `color of ${a}`, completion: COLORS[(a.charCodeAt(0) + a.charCodeAt(1)) % 3]! }));
  const jsonl = (rs: typeof rows) => rs.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return {
    files: [
      { filename: 'colors-a.jsonl', text: jsonl(rows.slice(0, 12)) },
      { filename: 'colors-b.jsonl', text: jsonl(rows.slice(12)) },
    ],
    texts: rows.map((r) => `Question: ${r.prompt}\nAnswer: ${r.completion}`),
  };
}

export interface SeedTrainingDatanetParameters {
  /** The datanet owner (and its curator). */
  ownerKey: Hex;
  /** Each file is uploaded and contributed by its key. */
  contributions: { key: Hex; filename: string; text: string }[];
  permissioned?: boolean;
}

/** Creates a datanet, uploads and contributes each file, accepts every contribution and publishes version 1. */
export async function seedTrainingDatanet(chain: ChainContext, content: ContentStore, p: SeedTrainingDatanetParameters): Promise<{ datanetId: bigint; version: bigint; contributionIds: bigint[] }> {
  const { datanetId } = await createDatanet(chain, {
    key: p.ownerKey,
    metadataURI: 'data:,training-test',
    modality: 'text',
    license: 'CC0-1.0',
    requiredStake: 0n,
    permissioned: p.permissioned ?? false,
  });
  const contributionIds: bigint[] = [];
  for (const c of p.contributions) {
    const bytes = new TextEncoder().encode(c.text);
    const parsed = parseRows({ bytes, filename: c.filename });
    const stored = await storeContribution({ store: content, bytes, filename: c.filename, limits: DEFAULT_ROW_LIMITS, parsed });
    const account = privateKeyToAccount(c.key);
    const fileSha256 = createHash('sha256').update(bytes).digest('hex');
    const signature = await account.signTypedData(
      uploadTypedData({ chainId: chain.deployment.chainId, registry: chain.deployment.contracts.DatanetRegistry, datanetId, fileSha256 }),
    );
    await recordUpload(content, {
      format: 'tributary-upload-v1',
      contentHash: stored.contentHash,
      uploader: account.address.toLowerCase() as Hex,
      datanetId: datanetId.toString(),
      fileSha256,
      manifestSha256: stored.manifestHash,
      filename: c.filename,
      fileBytes: bytes.length,
      rowCount: parsed.rows.length,
      shape: parsed.shape,
      signature: signature.toLowerCase() as Hex,
      uploadedAt: new Date().toISOString(),
    });
    const sent = await contribute(chain, { key: c.key, datanetId, contentHash: stored.contentHash, size: BigInt(bytes.length), uri: `sha256:${fileSha256}`, stake: 0n });
    await reviewContribution(chain, { key: p.ownerKey, contributionId: sent.contributionId, accepted: true, quality: 9000 });
    contributionIds.push(sent.contributionId);
  }
  const accepted = await acceptedContributions(chain, { datanetId });
  const v = await publishVersion(chain, { key: p.ownerKey, datanetId, root: datanetVersionRoot(accepted), contributionCount: BigInt(accepted.length), uri: 'data:,v1' });
  return { datanetId, version: v.version, contributionIds };
}
