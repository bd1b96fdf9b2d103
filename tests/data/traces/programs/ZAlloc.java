// ZAlloc.java: threads that allocate byte arrays of 1-4 KiB and keep one in ten (up to 2,000), so that a small heap
// fills and ZGC collects it many times. usage: java -XX:+UseZGC ... ZAlloc THREADS ALLOCATIONS
import java.util.*;
public class ZAlloc {
    public static void main(String[] a) throws Exception {
        int threads = Integer.parseInt(a[0]);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = new Thread(() -> {
                List<byte[]> keep = new ArrayList<>();
                long sum = 0;
                for (int i = 0; i < Integer.parseInt(a[1]); i++) {
                    byte[] b = new byte[1024 + (i % 7) * 512];
                    b[i % b.length] = (byte) i;
                    if (i % 10 == 0) keep.add(b);
                    if (keep.size() > 2000) keep.clear();
                    sum += b[0];
                }
                System.out.println(sum);
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
    }
}
