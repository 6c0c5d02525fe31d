/* DriversJdbc.java: MariaDB Connector/J (Debian libmariadb-java) against
 * the czar, as a TAP service in front of Qserv uses it: connect, the
 * driver's own session settings, setReadOnly / setAutoCommit(false) /
 * setTransactionIsolation, a query whose count must equal the reference's,
 * commit / rollback, DatabaseMetaData.getTables, and a write in a
 * transaction refused with 1235.  Run in single-file source mode:
 *   java -cp /usr/share/java/mariadb-java-client.jar DriversJdbc.java DB WANT_COUNT WANT_TABLES
 * with QSERV_CZAR_HOST/PORT, QSERV_USER/PASSWORD in the environment.
 * Prints "PASS name" or "FAIL name: why" per check (drivers.sh makes TAP). */
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

public class DriversJdbc {
    static void report(String name, String why) {
        System.out.println(why == null ? "PASS " + name : "FAIL " + name + ": " + why);
    }

    public static void main(String[] a) throws Exception {
        String db = a[0];
        long want = Long.parseLong(a[1]);
        int wantTables = Integer.parseInt(a[2]);
        String url = "jdbc:mariadb://" + System.getenv("QSERV_CZAR_HOST") + ":" + System.getenv("QSERV_CZAR_PORT") + "/" + db
                + "?connectTimeout=10000&socketTimeout=60000";
        Connection c;
        try {
            c = DriverManager.getConnection(url, System.getenv("QSERV_USER"), System.getenv("QSERV_PASSWORD"));
            report("Connector/J connects", null);
        } catch (SQLException e) {
            report("Connector/J connects", e.getErrorCode() + " " + e.getMessage());
            return;
        }
        try {
            c.setReadOnly(true);
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            c.setAutoCommit(false);
            long n;
            try (Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT COUNT(*) FROM Object WHERE qserv_areaspec_box(0.5, -0.5, 1.5, 0.5) = 1")) {
                r.next();
                n = r.getLong(1);
            }
            c.commit();
            c.rollback();
            c.setAutoCommit(true);
            report("Connector/J: read-only, READ COMMITTED, autocommit off, COUNT in a box, commit, rollback",
                   n == want ? null : "count " + n + ", want " + want);
        } catch (SQLException e) {
            report("Connector/J: read-only, READ COMMITTED, autocommit off, COUNT in a box, commit, rollback",
                   e.getErrorCode() + " " + e.getMessage());
        }
        try {
            /* getAutoCommit() reads the server status of the last OK/EOF */
            c.setAutoCommit(false);
            boolean off = c.getAutoCommit();
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM Filter")) {
                r.next();
            }
            boolean stillOff = c.getAutoCommit();
            c.setAutoCommit(true);
            boolean on = c.getAutoCommit();
            report("Connector/J getAutoCommit() follows setAutoCommit",
                   !off && !stillOff && on ? null : "after false: " + off + ", after a query: " + stillOff + ", after true: " + on);
        } catch (SQLException e) {
            report("Connector/J getAutoCommit() follows setAutoCommit", e.getErrorCode() + " " + e.getMessage());
        }
        try (ResultSet r = c.getMetaData().getTables(db, null, "%", null)) {
            int n = 0;
            while (r.next())
                n++;
            report("Connector/J DatabaseMetaData.getTables", n == wantTables ? null : n + " tables, want " + wantTables);
        } catch (SQLException e) {
            report("Connector/J DatabaseMetaData.getTables", e.getErrorCode() + " " + e.getMessage());
        }
        try (Statement s = c.createStatement()) {
            c.setReadOnly(false);
            c.setAutoCommit(false);
            String why;
            try {
                s.executeUpdate("INSERT INTO Filter VALUES (99, 'x')");
                why = "the INSERT was accepted";
            } catch (SQLException e) {
                why = e.getErrorCode() == 1235 ? null : "error " + e.getErrorCode() + " " + e.getMessage();
            }
            c.rollback();
            c.setAutoCommit(true);
            report("Connector/J: a write inside a transaction is refused (1235)", why);
        } catch (SQLException e) {
            report("Connector/J: a write inside a transaction is refused (1235)", e.getErrorCode() + " " + e.getMessage());
        }
        c.close();
    }
}
