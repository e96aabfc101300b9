// Computes CCNET frames with node-cashcode-bv's own Command.assemble and getCRC16
// (BillValidator.getCRC16 copied out of the class text, nothing rewritten).
const fs = require('fs');
const CCNet = require('./Source/CCNet/Constants');
const src = fs.readFileSync('./Source/CCNet/BillValidator.js', 'utf8');
const body = src.slice(src.indexOf('getCRC16 (buffer) {') + 'getCRC16 (buffer) '.length);
let depth = 0, end = 0;
for (let i = 0; i < body.length; i++) { if (body[i] == '{') depth++; if (body[i] == '}') { depth--; if (depth == 0) { end = i + 1; break; } } }
global.Buffer = Buffer;
const getCRC16 = new Function('CCNet', 'Buffer', 'return function(buffer) ' + body.slice(0, end))(CCNet, Buffer);
const Command = require('./Source/CCNet/Command');
const device = { adr: CCNet.ADR_BILL_VALIDATOR, getCRC16 };
const hex = b => Array.from(b).map(x => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
const cmds = [['RESET',0x30,[]],['GET STATUS',0x31,[]],['POLL',0x33,[]],['STACK',0x35,[]],['RETURN',0x36,[]],['IDENTIFICATION',0x37,[]],['HOLD',0x38,[]],['GET BILL TABLE',0x41,[]],['ENABLE all+escrow all',0x34,[0xFF,0xFF,0xFF,0xFF,0xFF,0xFF]],['ENABLE none',0x34,[0,0,0,0,0,0]],['ENABLE types 2,3,4 escrow',0x34,[0,0,0x1C,0,0,0x1C]],
['ACK',0x00,[]],['NAK',0xFF,[]],['(dev) idling',0x14,[]],['(dev) disabled',0x19,[]],['(dev) power up',0x10,[]],['(dev) escrow type 2',0x80,[0x02]],['(dev) stacked type 2',0x81,[0x02]],['(dev) returned type 2',0x82,[0x02]],['(dev) rejecting verification',0x1C,[0x66]],['(dev) cassette jammed',0x44,[]],['(dev) failure optic',0x47,[0x55]],
// The identification answer has no state byte: its first payload byte stands in for the code.
['(dev) identification',83,[0x4D,0x2D,0x43,0x4E,0x31,0x35,0x30,0x31,0x20,0x20,0x20,0x20,0x20,0x20,0x34,0x31,0x4B,0x30,0x31,0x32,0x33,0x34,0x35,0x36,0x37,0x38,0x00,0x00,0x00,0x00,0x00,0x12,0x34]]];
for (const [name, code, data] of cmds) console.log(name.padEnd(28), hex(new Command(code, device).request(data)));
