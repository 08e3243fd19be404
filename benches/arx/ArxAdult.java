// ARX's side of benches/anonymize.sh setting 1: UCI Adult (scripts/arx-adult.sh),
// its nine quasi-identifiers with ARX's example hierarchies
// (tests/data/arx-adult), k = 5, 2% suppression limit, ARX's optimal search
// (Flash), one metric per call. Build and run: benches/arx/README.md.
//
//   java -cp "$ARX_BENCH/classes:$ARX_BENCH/lib/*" ArxAdult ADULT_CSV HIERARCHY_PREFIX METRIC
//
// ADULT_CSV is the comma-separated file scripts/arx-adult.sh prints,
// HIERARCHY_PREFIX the hierarchy files' common prefix (the file of column c
// is HIERARCHY_PREFIX_c.csv, ';'-separated), METRIC one of precision,
// discernibility, loss, entropy. ARX_WARMUP (default 3) and ARX_RUNS
// (default 5) set the runs in this JVM after the first (cold) one.
//
// Each run is timed end to end, like `deid anonymize`: read the CSV and the
// hierarchies, encode, search. Prints one line:
//
//   label  optimum  loss  suppressed  checked/lattice  cold_s  best_s  median_s  search_s
//
// (loss to nine significant digits)
//
// optimum: the levels in deid's column order (the order of the QI list
// below); loss: ARX's information loss of the optimum as ARX reports it;
// suppressed: records of the optimum's output ARX marks as outliers;
// checked: the transformations ARX checked; cold_s: the first run in a fresh
// JVM; best_s / median_s: over the ARX_RUNS runs after ARX_WARMUP warm-up
// runs; search_s: the median of ARX's own ARXResult.getTime() (anonymize()
// alone, without reading the files) over the same runs.
//
// Metrics, chosen to match docs/ANONYMIZE.md (ARX's defaults otherwise:
// gsFactor 0.5, so generalization and suppression weigh 1 each):
//   precision       Metric.createPrecisionMetric(false, ARITHMETIC_MEAN): non-monotonic
//                   Prec, a suppressed record counts 1 in every column, mean over columns
//   discernibility  Metric.createDiscernabilityMetric(false): non-monotonic DM,
//                   suppressed records cost n each
//   loss            Metric.createLossMetric(ARITHMETIC_MEAN): Iyengar's loss, mean over
//                   columns (ARX's default aggregate for it is the geometric mean)
//   entropy         Metric.createEntropyMetric(false, SUM): non-monotonic non-uniform
//                   entropy summed over columns

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.deidentifier.arx.ARXAnonymizer;
import org.deidentifier.arx.ARXConfiguration;
import org.deidentifier.arx.ARXLattice.ARXNode;
import org.deidentifier.arx.ARXResult;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.Data;
import org.deidentifier.arx.DataHandle;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.metric.Metric;
import org.deidentifier.arx.metric.Metric.AggregateFunction;

public class ArxAdult {

    static final String[] QI = {"sex", "age", "race", "marital-status", "education",
                                "native-country", "workclass", "occupation", "salary-class"};

    /** One run's outcome. */
    static final class Run {
        int[] levels;
        double loss;
        int suppressed;
        long checked;
        long lattice;
        double seconds;
        double searchSeconds;
    }

    static Metric<?> metric(String name) {
        switch (name) {
            case "precision":
                return Metric.createPrecisionMetric(false, AggregateFunction.ARITHMETIC_MEAN);
            case "discernibility":
                return Metric.createDiscernabilityMetric(false);
            case "loss":
                return Metric.createLossMetric(AggregateFunction.ARITHMETIC_MEAN);
            case "entropy":
                return Metric.createEntropyMetric(false, AggregateFunction.SUM);
            default:
                throw new IllegalArgumentException("unknown metric " + name
                        + " (precision, discernibility, loss, entropy)");
        }
    }

    static Run run(String csv, String prefix, String metricName) throws Exception {
        long t0 = System.nanoTime();
        Data data = Data.create(new File(csv), StandardCharsets.UTF_8, ',');
        for (String c : QI) {
            data.getDefinition().setAttributeType(c,
                    Hierarchy.create(new File(prefix + "_" + c + ".csv"), StandardCharsets.UTF_8, ';'));
        }
        ARXConfiguration config = ARXConfiguration.create();
        config.addPrivacyModel(new KAnonymity(5));
        config.setSuppressionLimit(0.02d);
        config.setQualityModel(metric(metricName));
        config.setAlgorithm(ARXConfiguration.AnonymizationAlgorithm.OPTIMAL);
        ARXResult result = new ARXAnonymizer().anonymize(data, config);
        long t1 = System.nanoTime();

        Run r = new Run();
        r.seconds = (t1 - t0) / 1e9;
        r.searchSeconds = result.getTime() / 1e3;
        r.checked = result.getProcessStatistics().getTransformationsChecked();
        r.lattice = result.getProcessStatistics().getTransformationsAvailable().longValue();
        ARXNode optimum = result.getGlobalOptimum();
        if (optimum == null) {
            r.levels = null;
            return r;
        }
        r.levels = new int[QI.length];
        for (int i = 0; i < QI.length; i++) {
            r.levels[i] = optimum.getGeneralization(QI[i]);
        }
        r.loss = Double.parseDouble(optimum.getHighestScore().toString());
        DataHandle out = result.getOutput(optimum, false);
        for (int row = 0; row < out.getNumRows(); row++) {
            if (out.isOutlier(row)) {
                r.suppressed++;
            }
        }
        out.release();
        return r;
    }

    static String levels(int[] l) {
        if (l == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < l.length; i++) {
            b.append(i == 0 ? "" : ",").append(l[i]);
        }
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: ArxAdult ADULT_CSV HIERARCHY_PREFIX METRIC");
            System.exit(2);
        }
        int warmup = Integer.parseInt(System.getenv().getOrDefault("ARX_WARMUP", "3"));
        int runs = Integer.parseInt(System.getenv().getOrDefault("ARX_RUNS", "5"));
        if (runs < 1) {
            runs = 1;
        }

        Run cold = run(args[0], args[1], args[2]);
        for (int i = 0; i < warmup; i++) {
            run(args[0], args[1], args[2]);
        }
        double[] wall = new double[runs];
        double[] search = new double[runs];
        Run last = cold;
        for (int i = 0; i < runs; i++) {
            last = run(args[0], args[1], args[2]);
            if (!Arrays.equals(last.levels, cold.levels)) {
                System.err.println("ArxAdult: the optimum changed between runs: "
                        + levels(cold.levels) + " then " + levels(last.levels));
                System.exit(1);
            }
            wall[i] = last.seconds;
            search[i] = last.searchSeconds;
        }
        Arrays.sort(wall);
        Arrays.sort(search);
        String label = "arx adult k=5 2% " + args[2];
        System.out.printf("%-34s%-20s%14s%8d%8d/%-7d%9.3f%9.3f%9.3f%9.3f%n",
                label, levels(last.levels), String.format("%.9g", last.loss), last.suppressed,
                last.checked, last.lattice, cold.seconds, wall[0], median(wall), median(search));
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
