/**
 * Test support: writes zip archives byte by byte, including the hostile ones real zip libraries refuse
 * to produce (traversal names, absolute paths, symlinks, sizes that lie). Regular archives: use yazl.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftedEntry {
  name: string;
  data: Buffer | string;
  /** Default 'deflate'. */
  method?: 'store' | 'deflate';
  /** Unix mode stored in the external attributes, e.g. 0o120777 for a symlink. Default 0o100644. */
  mode?: number;
  /** Uncompressed size written in the headers instead of the real one. */
  declaredSize?: number;
  /** The name's bytes as written, and whether the UTF-8 flag says so (default: `name` in UTF-8, flagged). */
  nameBytes?: Buffer;
  utf8Flag?: boolean;
}

const DOS_TIME = 0;
const DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1;
const UTF8_FLAG = 0x800;
const MADE_BY_UNIX = (3 << 8) | 20;

export function craftZip(entries: readonly CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const method = entry.method === 'store' ? 0 : 8;
    const stored = method === 0 ? data : deflateRawSync(data);
    const name = entry.nameBytes ?? Buffer.from(entry.name, 'utf8');
    const flags = entry.utf8Flag === false ? 0 : UTF8_FLAG;
    const size = entry.declaredSize ?? data.length;
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(method === 0 && entry.declaredSize !== undefined ? size : stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
