-- install.sql: registers the scisql UDFs of qserv_scisql.so in a MariaDB
-- server whose plugin_dir holds qserv_scisql.so (start mariadbd with
-- --plugin-dir=DIR, or copy the file into the server's plugin directory).
-- Source it as a user with INSERT privilege on mysql.func:
--   mariadb -S SOCKET -u root < qserv/scisql/install.sql
-- It is idempotent: every function is dropped first if it exists.
-- The functions live in the mysql.func table and survive restarts.
DROP FUNCTION IF EXISTS scisql_angSep;
CREATE FUNCTION scisql_angSep RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2PtInBox;
CREATE FUNCTION scisql_s2PtInBox RETURNS INTEGER SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2PtInCircle;
CREATE FUNCTION scisql_s2PtInCircle RETURNS INTEGER SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2PtInEllipse;
CREATE FUNCTION scisql_s2PtInEllipse RETURNS INTEGER SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2PtInCPoly;
CREATE FUNCTION scisql_s2PtInCPoly RETURNS INTEGER SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2CPolyToBin;
CREATE FUNCTION scisql_s2CPolyToBin RETURNS STRING SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_fluxToAbMag;
CREATE FUNCTION scisql_fluxToAbMag RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_fluxToAbMagSigma;
CREATE FUNCTION scisql_fluxToAbMagSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToFlux;
CREATE FUNCTION scisql_abMagToFlux RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToFluxSigma;
CREATE FUNCTION scisql_abMagToFluxSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_dnToFlux;
CREATE FUNCTION scisql_dnToFlux RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_dnToFluxSigma;
CREATE FUNCTION scisql_dnToFluxSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_dnToAbMag;
CREATE FUNCTION scisql_dnToAbMag RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_dnToAbMagSigma;
CREATE FUNCTION scisql_dnToAbMagSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_fluxToDn;
CREATE FUNCTION scisql_fluxToDn RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_fluxToDnSigma;
CREATE FUNCTION scisql_fluxToDnSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToDn;
CREATE FUNCTION scisql_abMagToDn RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToDnSigma;
CREATE FUNCTION scisql_abMagToDnSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_nanojanskyToAbMag;
CREATE FUNCTION scisql_nanojanskyToAbMag RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_nanojanskyToAbMagSigma;
CREATE FUNCTION scisql_nanojanskyToAbMagSigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToNanojansky;
CREATE FUNCTION scisql_abMagToNanojansky RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_abMagToNanojanskySigma;
CREATE FUNCTION scisql_abMagToNanojanskySigma RETURNS REAL SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_getVersion;
CREATE FUNCTION scisql_getVersion RETURNS STRING SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2HtmId;
CREATE FUNCTION scisql_s2HtmId RETURNS INTEGER SONAME 'qserv_scisql.so';
DROP FUNCTION IF EXISTS scisql_s2HtmLevel;
CREATE FUNCTION scisql_s2HtmLevel RETURNS INTEGER SONAME 'qserv_scisql.so';
