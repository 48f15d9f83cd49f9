import net from 'node:net';

export interface SmtpListener {
  readonly port: number;
  /** Every message received, headers and body as sent (dot-stuffing undone). */
  readonly messages: string[];
  /** The credentials of every `AUTH PLAIN` / `AUTH LOGIN`, decoded. */
  readonly logins: { user: string; pass: string }[];
  close(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/**
 * A tiny SMTP server: enough of RFC 5321 (and AUTH PLAIN/LOGIN, accepting any credentials) for
 * nodemailer to hand over a message.
 */
export async function smtpListener(): Promise<SmtpListener> {
  const messages: string[] = [];
  const logins: { user: string; pass: string }[] = [];
  const server = net.createServer((sock) => {
    sock.write('220 localhost ESMTP test\r\n');
    let buf = '';
    let inData = false;
    let msg = '';
    // AUTH LOGIN asks for the user name, then the password, each on its own line.
    let loginStep: 'user' | 'pass' | undefined;
    let loginUser = '';
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      for (let i = buf.indexOf('\r\n'); i !== -1; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(msg);
            msg = '';
            sock.write('250 2.0.0 queued\r\n');
          } else {
            msg += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          }
          continue;
        }
        if (loginStep === 'user') {
          loginUser = b64(line);
          loginStep = 'pass';
          sock.write('334 UGFzc3dvcmQ6\r\n');
          continue;
        }
        if (loginStep === 'pass') {
          logins.push({ user: loginUser, pass: b64(line) });
          loginStep = undefined;
          sock.write('235 2.7.0 authenticated\r\n');
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
        else if (verb === 'AUTH') {
          const [, mech, initial] = line.split(' ');
          if (mech?.toUpperCase() === 'PLAIN' && initial) {
            const [, user = '', pass = ''] = b64(initial).split('\0');
            logins.push({ user, pass });
            sock.write('235 2.7.0 authenticated\r\n');
          } else {
            loginStep = 'user';
            sock.write('334 VXNlcm5hbWU6\r\n');
          }
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          sock.write('221 bye\r\n');
          sock.end();
        } else sock.write('250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
