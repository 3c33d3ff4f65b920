/** Test support: a well-formed zip built with yazl, as ordinary tools write them. */
import yazl from 'yazl';

export function buildZip(
  files: Record<string, Buffer | string>,
  options: { mode?: Record<string, number> } = {},
): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    const mode = options.mode?.[name];
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, {
      mtime: new Date('2024-01-01T00:00:00Z'),
      ...(mode === undefined ? {} : { mode }),
    });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
