import { createHash } from 'node:crypto';
import { jssdkSignature } from '../../../server/wecom/jssdk';
import { loadVectors } from '../../helpers/vectors';

const vectors = loadVectors().filter((v) => v.kind === 'jsapi-signature');

describe('JS-SDK signature', () => {
  it('has the three jsapi-signature vectors to check against', () => {
    expect(vectors.map((v) => v.name).sort()).toEqual([
      'fresh-jssdk-agent-config',
      'fresh-jssdk-corp-config',
      'official-jssdk-signature',
    ]);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('matches vector %s', (_name, v) => {
    const s = jssdkSignature(v.jsapiTicket as string, v.url as string, v.nonce, Number(v.timestamp));
    expect(s).toEqual({ timestamp: Number(v.timestamp), nonceStr: v.nonce, signature: v.signature });
    // The vector's plaintext is the signed string: same formula, independently.
    expect(createHash('sha1').update(v.plaintext).digest('hex')).toBe(v.signature);
  });

  it('drops the fragment before signing and keeps percent-encoding', () => {
    const v = vectors.find((x) => x.name === 'fresh-jssdk-corp-config');
    if (!v) throw new Error('vector missing');
    const withHash = `${v.url}#/customer/wmq7ZfCgAA3kX9pT2vLr8sYh1nWb6dEuQA`;
    expect(jssdkSignature(v.jsapiTicket as string, withHash, v.nonce, Number(v.timestamp)).signature).toBe(v.signature);
  });

  it('makes a fresh nonce and a current timestamp when not given', () => {
    const a = jssdkSignature('T', 'https://x.example/p');
    const b = jssdkSignature('T', 'https://x.example/p');
    expect(a.nonceStr).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(a.nonceStr).not.toBe(b.nonceStr);
    expect(Math.abs(a.timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(a.signature).toBe(
      createHash('sha1')
        .update(`jsapi_ticket=T&noncestr=${a.nonceStr}&timestamp=${a.timestamp}&url=https://x.example/p`)
        .digest('hex'),
    );
  });
});
