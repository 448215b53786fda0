% Times the reference Liu / VIFF metric code (pinned files, extracted to /tmp/liu_tp) under Octave
% on the synthetic 640x480 triple of benchmarks/bench_metrics.py (written to /tmp/liu_tp/img).
% One run per metric (no warm-up beyond the first call's parsing), CPU time of this process.
% usage: octave-cli --no-gui --norc benchmarks/octave_liu_time.m [keys...]   (after extracting the pinned files to
% /tmp/liu_tp/liu and /tmp/liu_tp/viff as shared/conformance/octave/liu_setup_third_party.sh does, and
% /tmp/liu_tp/shim holding fspecial.m and mean2.m shims if octave-image is missing; output: key, value, CPU s, wall s)
% Qm@liu also needs matlabPyrTools in /tmp/liu_tp/liupyr/matlabPyrTools with MEX/corrDn.mex built by mkoctfile --mex
% (as liu_setup_third_party.sh does); it goes last on the path, as in liu_setup_paths.m.
tp = '/tmp/liu_tp';
addpath([tp '/liu']); addpath([tp '/viff']);
addpath([tp '/liupyr/matlabPyrTools/MEX'], '-end'); addpath([tp '/liupyr/matlabPyrTools'], '-end');
addpath('/work/shared/conformance/octave/shims');
try
  pkg load image
catch
  fprintf(2, 'no image package (%s): using the fspecial timing shim\n', lasterr); addpath([tp '/shim']);
end
warning('off', 'all');
A = double(imread([tp '/img/a.png'])); B = double(imread([tp '/img/b.png'])); F = double(imread([tp '/img/f.png']));
T = {
  'Qmi@liu',        @(A,B,F) metricMI(A,B,F,1);
  'Qte@liu',        @(A,B,F) metricMI(A,B,F,3);
  'Qte_cvejic@liu', @(A,B,F) metricMI(A,B,F,2);
  'Qncie@liu',      @(A,B,F) metricWang(A,B,F);
  'Qg@liu',         @(A,B,F) metricXydeas(A,B,F);
  'Qm@liu',         @(A,B,F) metricPWW(A,B,F);
  'Qsf@liu',        @(A,B,F) metricZheng(A,B,F);
  'Qp@liu',         @(A,B,F) metricZhao(A,B,F);
  'Qs@liu',         @(A,B,F) metricPeilla(A,B,F,1);
  'Qw@liu',         @(A,B,F) metricPeilla(A,B,F,2);
  'Qc@liu',         @(A,B,F) metricCvejic(A,B,F,2);
  'Qy@liu',         @(A,B,F) metricYang(A,B,F);
  'Qcv@liu',        @(A,B,F) metricChen(A,B,F);
  'Qcb@liu',        @(A,B,F) metricChenBlum(A,B,F);
  'VIFF@han',       @(A,B,F) VIFF_Public(A,B,F);
};
args = argv();
for i = 1:rows(T)
  key = T{i,1};
  if ~isempty(args) && ~any(strcmp(args, key)), continue; end
  try
    t0 = cputime; tic;
    evalc('v = T{i,2}(A,B,F);');   % the reference code prints progress; keep stdout clean
    w = toc; c = cputime - t0;
    printf('%s\t%.17g\t%.3f\t%.3f\n', key, real(v), c, w);
  catch err
    printf('%s\tERROR\t%s\n', key, strrep(err.message, sprintf('\n'), ' '));
  end
  fflush(stdout);
end
