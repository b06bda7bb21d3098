// Integration tests need MariaDB on 127.0.0.1:3306 (root, no password). Fail early with a clear hint.
const mysql = require('mysql2/promise');

module.exports = async () => {
  try {
    const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 3000 });
    await c.query('CREATE DATABASE IF NOT EXISTS test');
    await c.end();
  } catch (err) {
    throw new Error(
      `MariaDB is not reachable on 127.0.0.1:3306 (${err.message}). Start it with: ` +
        'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    );
  }
};
