use nao_geodesic::reference::{ReferenceConfig, ReferenceSolver};
#[test]
fn scratch() {
    for case in ["interp_d64_scaled"] {
    let dir = std::path::Path::new("/work/shared/reference/nao-official").join(case);
    let r = |f: &str| nao_npy::read_npy(dir.join(f)).unwrap();
    let p1 = r("p1.npy").to_f32_vec();
    let p2 = r("p2.npy").to_f32_vec();
    let d = p1.len();
    let init = r("init_path.npy").to_f32_vec();
    let fin = r("final_path.npy").to_f32_vec();
    for mi in [274usize, 277, 300, 400, 1000] {
    let s = ReferenceSolver::new(d, ReferenceConfig{max_iters: mi, tol: 0.0, ..Default::default()}).unwrap();
    let sol = s.solve_from(&p1, &p2, &init).unwrap();
    let full: Vec<f32> = [&p1[..], &fin[..], &p2[..]].concat();
    let on: Vec<f64> = full.chunks(d).map(nao_prior::norm).collect();
    let mut line = format!("iters {mi} final loss {:.6}: ", sol.final_loss.loss);
    let mut mx: f64 = 0.0; let mut rms = 0.0;
    for (k, (a, b)) in sol.point_norms().iter().zip(&on).enumerate() { let e = (a-b)/b; mx = mx.max(e.abs()); rms += e*e; if e.abs() > 5e-4 { line += &format!("pt{k} {e:+.1e} "); } }
    eprintln!("{line} max {mx:.2e} rms {:.2e} len {:.6}", (rms / 50.0).sqrt(), sol.path_length());
    }
    }
}
