// ccTalk frames signed by esnext-cctalk's own crc8.sign and crc16xmodemJs.sign
// (Apache-2.0, github.com/frank-dspeed/esnext-cctalk @ 601de03), unchanged.
// Input to sign: DEST, N, SRC, HEADER, DATA…, 0 (the checksum placeholder).
import { crc8 } from './packages/esnext-cctalk/modules/crc/8.js';
import { crc16xmodemJs } from './packages/esnext-cctalk/modules/crc/16-xmodemjs.js';
const hex = a => Array.from(a).map(x => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
const f = (dest, src, header, data) => Uint8Array.from([dest, data.length, src, header, ...data, 0]);
const cases = [
  ['simple poll -> 40', 40, 1, 254, []],
  ['reset -> 40', 40, 1, 1, []],
  ['request equipment category -> 40', 40, 1, 245, []],
  ['request manufacturer id -> 40', 40, 1, 246, []],
  ['request product code -> 40', 40, 1, 244, []],
  ['request serial number -> 40', 40, 1, 242, []],
  ['read buffered bill events -> 40', 40, 1, 159, []],
  ['request software revision -> 40', 40, 1, 241, []],
  ['(dev) software revision "1.2.3"', 1, 40, 0, [...Buffer.from('1.2.3')]],
  ['(dev) serial 12345', 1, 40, 0, [0x39, 0x30, 0x00]],
  ['modify master inhibit (enable) -> 40', 40, 1, 228, [1]],
  ['modify inhibit status all -> 40', 40, 1, 231, [0xFF, 0xFF]],
  ['modify inhibit status 1-4 -> 40', 40, 1, 231, [0x0F, 0x00]],
  ['route bill stack -> 40', 40, 1, 154, [1]],
  ['route bill return -> 40', 40, 1, 154, [0]],
  ['request bill id 1 -> 40', 40, 1, 157, [1]],
  ['(dev) ACK 40 -> 1', 1, 40, 0, []],
  ['(dev) events ctr 3: escrow 2, credit 1, master inhibit', 1, 40, 0, [3, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0]],
  ['(dev) bill id "CN0010A"', 1, 40, 0, [...Buffer.from('CN0010A')]],
  ['simple poll -> 2 (coin)', 2, 1, 254, []],
  ['read buffered credit -> 2 (coin)', 2, 1, 229, []],
  ['request coin id 3 -> 2 (coin)', 2, 1, 184, [3]],
  ['modify inhibit status 1-6 -> 2 (coin)', 2, 1, 231, [0x3F, 0x00]],
  ['modify master inhibit (enable) -> 2 (coin)', 2, 1, 228, [1]],
  ['(coin) coin id "CN100A"', 1, 2, 0, [...Buffer.from('CN100A')]],
  ['(coin) credits ctr 2: reject, then coin 3 path 1', 1, 2, 0, [2, 3, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
];
for (const [name, dest, src, header, data] of cases) {
  const frame = f(dest, src, header, data);
  const c8 = crc8.sign(frame);
  const c16 = crc16xmodemJs.sign(frame);
  console.log(name.padEnd(56), '8-bit:', hex(c8).padEnd(48), '| CRC-16:', hex(c16));
}
